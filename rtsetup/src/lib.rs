//! rtsetup
