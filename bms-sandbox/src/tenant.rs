//! The fake tenant's data: the API user's credentials and every record the routes serve.
//!
//! Ids are `pub const`s so tests assert on names, not magic numbers. `Tenant::default()` is the
//! tenant docs/development.md documents; tests that need something else build a `Tenant` and change it.

/// BMS company name, as the API user types it in the login form's `Tenant` field.
pub const TENANT_NAME: &str = "Contoso MSP";
pub const USER_NAME: &str = "api.button";
/// Holds `:` and `+` so clients prove they split `tenant+user:password` at the right place.
pub const PASSWORD: &str = "s3cret:pa+ss";
/// The credentials as the main crate's configuration writes them: `tenant+user:password`.
pub const CREDENTIALS: &str = "Contoso MSP+api.button:s3cret:pa+ss";

/// The employee id of the API user: what BMS records as `CreatedBy` of whatever it creates.
pub const API_USER_ID: i64 = 900;
pub const API_USER_DISPLAY_NAME: &str = "Button API";

pub const ACCOUNT_FABRIKAM: i64 = 1;
pub const ACCOUNT_NORTHWIND: i64 = 2;
pub const ACCOUNT_UNREGISTERED: i64 = 3;

pub const LOCATION_FABRIKAM_HQ: i64 = 11;
pub const LOCATION_FABRIKAM_BRANCH: i64 = 12;
pub const LOCATION_NORTHWIND_MAIN: i64 = 21;
pub const LOCATION_NORTHWIND_WAREHOUSE: i64 = 22;
pub const LOCATION_UNREGISTERED: i64 = 31;

pub const CONTACT_DAN_JUMP: i64 = 101;
/// Has no location, and a mixed-case e-mail address.
pub const CONTACT_ANN_BEEBE: i64 = 102;
/// Named and addressed like Dan Jump: a partial search (`jump@fabrikam.com`, `Dan`) finds both.
pub const CONTACT_DANNY_JUMPER: i64 = 103;
pub const CONTACT_UNREGISTERED: i64 = 104;
/// Inactive.
pub const CONTACT_OLD_TIMER: i64 = 105;

pub const STATUS_NEW: i64 = 1;
pub const STATUS_IN_PROGRESS: i64 = 2;
pub const STATUS_WAITING_CUSTOMER: i64 = 3;
pub const STATUS_COMPLETED: i64 = 4;

pub const PRIORITY_LOW: i64 = 1;
/// The tenant's default priority.
pub const PRIORITY_MEDIUM: i64 = 2;
pub const PRIORITY_HIGH: i64 = 3;
pub const PRIORITY_CRITICAL: i64 = 4;

pub const QUEUE_SERVICE_DESK: i64 = 1;
pub const QUEUE_ESCALATIONS: i64 = 2;
pub const QUEUE_PROJECTS: i64 = 3;

pub const ASSIGNEE_JANE_TECH: i64 = 501;
pub const ASSIGNEE_BOB_ADMIN: i64 = 502;
/// An employee named like contact 101, so name lookups must not confuse the two.
pub const ASSIGNEE_DAN_JUMP: i64 = 503;

/// Dan Jump's computer, on Fabrikam's books.
pub const ASSET_FAB_PC_0042: i64 = 601;
/// A Northwind laptop with no contact.
pub const ASSET_NW_LAPTOP_07: i64 = 602;
/// Two customers name a front-desk computer `RECEPTION`: the name alone decides nothing.
pub const ASSET_FABRIKAM_RECEPTION: i64 = 603;
pub const ASSET_NORTHWIND_RECEPTION: i64 = 604;
/// Retired: an active-only search does not find it.
pub const ASSET_FAB_OLD_01: i64 = 605;

pub const ISSUE_TYPE_HARDWARE: i64 = 701;
pub const ISSUE_TYPE_SOFTWARE: i64 = 702;
/// Inactive.
pub const ISSUE_TYPE_LEGACY: i64 = 703;
pub const SUB_ISSUE_TYPE_PRINTER: i64 = 711;
pub const SUB_ISSUE_TYPE_LAPTOP: i64 = 712;
pub const SUB_ISSUE_TYPE_EMAIL: i64 = 721;

/// The id of the first contact created through `POST /v2/crm/contacts/summary`.
pub const FIRST_CREATED_CONTACT_ID: i64 = 1_000;

/// The id of the first ticket filed in a fresh sandbox; each later ticket's id is one more.
pub const FIRST_TICKET_ID: i64 = 1001;

/// Lookup table names served by `/v2/system/lookup/{tableName}` (matched case-insensitively).
pub const TICKET_TYPE_TABLE: &str = "TicketType";
pub const TICKET_SOURCE_TABLE: &str = "TicketSource";

/// The tenant's default ticket type.
pub const TYPE_SERVICE_REQUEST: i64 = 1;
pub const TYPE_INCIDENT: i64 = 2;
pub const TYPE_PROBLEM: i64 = 3;

/// Source ids follow the v1 API's numbering, where 0 is a real id.
pub const SOURCE_CLIENT_PORTAL: i64 = 0;
pub const SOURCE_PHONE: i64 = 1;
pub const SOURCE_EMAIL: i64 = 4;
pub const SOURCE_MONITORING_SYSTEM: i64 = 5;
/// The tenant's default ticket source.
pub const SOURCE_OTHER: i64 = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub is_main: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub id: i64,
    pub account_id: i64,
    pub location_id: Option<i64>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub job_title: Option<String>,
    pub is_poc: bool,
    pub is_active: bool,
    pub has_client_portal_access: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub font_color: String,
    pub order: i64,
    pub type_id: i64,
    pub is_system: bool,
    pub is_active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priority {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub is_default: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue {
    pub id: i64,
    pub name: String,
    pub is_active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignee {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub job_title: Option<String>,
}

/// A computer BMS tracks (`HardwareAssetsListSearchSelectOutputDto`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardwareAsset {
    pub id: i64,
    pub account_id: i64,
    pub contact_id: Option<i64>,
    pub location_id: Option<i64>,
    pub name: String,
    pub ip_address: Option<String>,
    pub serial_number: String,
    pub category: String,
    pub is_active: bool,
}

/// An issue type and its sub-types (`/v2/system/issuetypes/...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueType {
    pub id: i64,
    pub name: String,
    pub is_active: bool,
    /// Id and name of each sub-type.
    pub sub_types: Vec<(i64, String)>,
}

/// A row of a generic lookup table (`TicketType`, `TicketSource`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupItem {
    pub id: i64,
    pub name: String,
    pub is_default: bool,
    pub is_active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// Login `Tenant` field (compared case-insensitively).
    pub name: String,
    /// Login `UserName` field (compared case-insensitively).
    pub user_name: String,
    /// Login `Password` field (compared exactly).
    pub password: String,
    pub accounts: Vec<Account>,
    pub locations: Vec<Location>,
    pub contacts: Vec<Contact>,
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub queues: Vec<Queue>,
    pub assignees: Vec<Assignee>,
    pub ticket_types: Vec<LookupItem>,
    pub ticket_sources: Vec<LookupItem>,
    pub assets: Vec<HardwareAsset>,
    pub issue_types: Vec<IssueType>,
}

impl Tenant {
    pub fn account(&self, id: i64) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn location(&self, id: i64) -> Option<&Location> {
        self.locations.iter().find(|l| l.id == id)
    }

    pub fn contact(&self, id: i64) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.id == id)
    }

    pub fn status(&self, id: i64) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    pub fn priority(&self, id: i64) -> Option<&Priority> {
        self.priorities.iter().find(|p| p.id == id)
    }

    pub fn queue(&self, id: i64) -> Option<&Queue> {
        self.queues.iter().find(|q| q.id == id)
    }

    pub fn assignee(&self, id: i64) -> Option<&Assignee> {
        self.assignees.iter().find(|a| a.id == id)
    }

    pub fn ticket_type(&self, id: i64) -> Option<&LookupItem> {
        self.ticket_types.iter().find(|t| t.id == id)
    }

    pub fn ticket_source(&self, id: i64) -> Option<&LookupItem> {
        self.ticket_sources.iter().find(|s| s.id == id)
    }

    pub fn asset(&self, id: i64) -> Option<&HardwareAsset> {
        self.assets.iter().find(|a| a.id == id)
    }

    pub fn issue_type(&self, id: i64) -> Option<&IssueType> {
        self.issue_types.iter().find(|t| t.id == id)
    }

    /// The issue type a sub-type belongs to.
    pub fn sub_issue_type_owner(&self, id: i64) -> Option<&IssueType> {
        self.issue_types
            .iter()
            .find(|t| t.sub_types.iter().any(|(s, _)| *s == id))
    }

    /// The rows of a lookup table, matching its name case-insensitively as BMS does.
    pub fn lookup_table(&self, table: &str) -> Option<&[LookupItem]> {
        if table.eq_ignore_ascii_case(TICKET_TYPE_TABLE) {
            Some(&self.ticket_types)
        } else if table.eq_ignore_ascii_case(TICKET_SOURCE_TABLE) {
            Some(&self.ticket_sources)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_string_matches_its_parts() {
        assert_eq!(CREDENTIALS, format!("{TENANT_NAME}+{USER_NAME}:{PASSWORD}"));
    }

    #[test]
    fn every_location_and_contact_points_at_a_real_account() {
        let t = Tenant::default();
        for l in &t.locations {
            assert!(t.account(l.account_id).is_some(), "location {}", l.id);
        }
        for a in &t.assets {
            assert!(t.account(a.account_id).is_some(), "asset {}", a.id);
        }
        for c in &t.contacts {
            assert!(t.account(c.account_id).is_some(), "contact {}", c.id);
            if let Some(l) = c.location_id {
                assert_eq!(
                    t.location(l).map(|l| l.account_id),
                    Some(c.account_id),
                    "contact {}",
                    c.id
                );
            }
        }
    }

    #[test]
    fn lookup_tables_match_case_insensitively() {
        let t = Tenant::default();
        assert_eq!(t.lookup_table("tickettype").map(<[_]>::len), Some(3));
        assert_eq!(t.lookup_table("TICKETSOURCE").map(<[_]>::len), Some(5));
        assert!(t.lookup_table("Nope").is_none());
    }
}
