//! JSON exports end to end (PowerShell ConvertTo-Json, UAL JSON / JSON Lines).
