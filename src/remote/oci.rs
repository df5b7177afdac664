//! OCI registries: a bundle version as an OCI artifact whose one layer is its archive.
