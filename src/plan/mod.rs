//! Plans: what install, update and uninstall would do, computed as data before anything is
//! written. Pure: (resolved graph, what is on disk, capm.lock) → Plan.

pub mod build;
pub mod collisions;
pub mod model;
pub mod ownership;
pub mod state;
