//! Library operations, one per command: each takes an options struct and returns a value
//! for the CLI to print. They never print and never decide exit codes.

pub mod apply;
pub mod cache;
pub mod doctor;
pub mod export;
pub mod info;
pub mod init;
pub mod lint;
pub mod lock;
pub mod new;
pub mod outdated;
pub mod plan;
pub mod probe;
pub mod project;
pub mod project_edit;
pub mod proposals;
pub mod publish;
pub mod publish_oci;
pub mod publish_sparse;
pub mod search;
pub mod yank;
