//! The computers BMS tracks (hardware assets): which one a press came from.

use serde::Deserialize;

use super::Bms;
use super::envelope::{self, BmsError};

/// One item of `GET /v2/servicedesk/hardwareasset/searchselect`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Asset {
    pub id: i64,
    #[serde(rename = "assetname", default)]
    pub name: Option<String>,
    #[serde(rename = "ipaddress", default)]
    pub ip_address: Option<String>,
    #[serde(rename = "accountid", default)]
    pub account_id: i64,
}

/// What a press says about its computer: the hostname it sent, else its IP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetKey {
    Name(String),
    Ip(String),
}

impl Asset {
    /// Whether this asset is the one `key` names: the name exactly, in any case (BMS's filter
    /// may mean "contains"), or the address exactly.
    pub fn is(&self, key: &AssetKey) -> bool {
        match key {
            AssetKey::Name(n) => self
                .name
                .as_deref()
                .is_some_and(|a| a.trim().eq_ignore_ascii_case(n.trim())),
            AssetKey::Ip(ip) => self.ip_address.as_deref().map(str::trim) == Some(ip.trim()),
        }
    }
}

impl Bms {
    /// The active assets `key` names. A page of 100 is plenty: a name is rarely shared, and
    /// [`Asset::is`] drops what a looser filter returns.
    pub async fn find_assets(&self, key: &AssetKey) -> Result<Vec<Asset>, BmsError> {
        const WHAT: &str = "hardware asset search";
        let filter = match key {
            AssetKey::Name(name) => ("Filter.AssetName", name.clone()),
            AssetKey::Ip(ip) => ("Filter.IPAddress", ip.clone()),
        };
        let result = self
            .get(
                WHAT,
                "/v2/servicedesk/hardwareasset/searchselect",
                &[
                    filter,
                    ("Filter.IsActive", "true".into()),
                    ("PageSize", "100".into()),
                ],
            )
            .await?;
        let assets: Vec<Asset> = envelope::read_list(WHAT, result)?;
        Ok(assets.into_iter().filter(|a| a.is(key)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(name: &str, ip: &str) -> Asset {
        Asset {
            id: 1,
            name: Some(name.into()),
            ip_address: Some(ip.into()),
            account_id: 1,
        }
    }

    #[test]
    fn a_name_matches_whole_in_any_case_and_an_address_exactly() {
        let a = asset("FAB-PC-0042", "10.1.0.42");
        assert!(a.is(&AssetKey::Name("fab-pc-0042".into())));
        assert!(!a.is(&AssetKey::Name("FAB-PC-004".into())));
        assert!(a.is(&AssetKey::Ip("10.1.0.42".into())));
        assert!(!a.is(&AssetKey::Ip("10.1.0.4".into())));
    }
}
