//! Claude Code marketplaces as registries (not readable yet).

use super::{Net, Release, RemoteError, Source};

/// A marketplace repository.
pub struct Marketplace {
    location: String,
}

impl Marketplace {
    pub fn open(location: &str, _net: &Net) -> Result<Marketplace, RemoteError> {
        Err(RemoteError::InvalidSource {
            what: location.to_string(),
            message: "marketplaces cannot be read yet".into(),
        })
    }
}

impl Source for Marketplace {
    fn releases(
        &self,
        _names: &[String],
        _net: &Net,
    ) -> Result<Vec<(String, Vec<Release>)>, RemoteError> {
        Err(RemoteError::InvalidSource {
            what: self.location.clone(),
            message: "marketplaces cannot be read yet".into(),
        })
    }
}
