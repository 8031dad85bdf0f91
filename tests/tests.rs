//! The one integration-test binary (as ripgrep does): drives the real `mbxaudit` binary
//! over the fixtures in `testdata/` and checks its outputs exactly.

mod properties;
mod search;
mod util;
