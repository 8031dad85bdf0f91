//! Tests of the Sigma engine on the rule corpus and real exports in testdata, on
//! hand-written events for each modifier and condition form, and on arbitrary input.

mod corpus;
mod forms;
mod loading;
mod props;
mod samples;
mod speed;
