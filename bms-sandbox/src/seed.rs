//! The seeded tenant, `Tenant::default()`: the records docs/development.md documents, built from the ids
//! in [`crate::tenant`].

use crate::tenant::*;

fn account(id: i64, name: &str) -> Account {
    Account {
        id,
        name: name.to_owned(),
    }
}

fn location(id: i64, account_id: i64, name: &str, is_main: bool) -> Location {
    Location {
        id,
        account_id,
        name: name.to_owned(),
        is_main,
    }
}

fn contact(
    id: i64,
    account_id: i64,
    location_id: Option<i64>,
    names: (&str, &str),
    email: &str,
) -> Contact {
    Contact {
        id,
        account_id,
        location_id,
        first_name: names.0.to_owned(),
        last_name: names.1.to_owned(),
        email: email.to_owned(),
        job_title: None,
        is_poc: false,
        is_active: true,
        has_client_portal_access: false,
    }
}

fn status(id: i64, name: &str, color: &str, type_id: i64) -> Status {
    Status {
        id,
        name: name.to_owned(),
        color: color.to_owned(),
        font_color: "#FFFFFF".to_owned(),
        order: id,
        type_id,
        is_system: true,
        is_active: true,
    }
}

fn priority(id: i64, name: &str, color: &str) -> Priority {
    Priority {
        id,
        name: name.to_owned(),
        color: color.to_owned(),
        is_default: id == PRIORITY_MEDIUM,
    }
}

fn queue(id: i64, name: &str) -> Queue {
    Queue {
        id,
        name: name.to_owned(),
        is_active: true,
    }
}

fn assignee(id: i64, name: &str, email: &str, job_title: &str) -> Assignee {
    Assignee {
        id,
        name: name.to_owned(),
        email: email.to_owned(),
        job_title: Some(job_title.to_owned()),
    }
}

fn lookup(id: i64, name: &str, is_default: bool) -> LookupItem {
    LookupItem {
        id,
        name: name.to_owned(),
        is_default,
        is_active: true,
    }
}

impl Default for Tenant {
    fn default() -> Self {
        Tenant {
            name: TENANT_NAME.to_owned(),
            user_name: USER_NAME.to_owned(),
            password: PASSWORD.to_owned(),
            accounts: vec![
                account(ACCOUNT_FABRIKAM, "Fabrikam Inc"),
                account(ACCOUNT_NORTHWIND, "Northwind Traders"),
                account(ACCOUNT_UNREGISTERED, "Unregistered Users"),
            ],
            locations: locations(),
            contacts: contacts(),
            statuses: vec![
                status(STATUS_NEW, "New", "#2E86DE", 1),
                status(STATUS_IN_PROGRESS, "In Progress", "#F39C12", 2),
                status(STATUS_WAITING_CUSTOMER, "Waiting Customer", "#8E44AD", 2),
                status(STATUS_COMPLETED, "Completed", "#27AE60", 3),
            ],
            priorities: vec![
                priority(PRIORITY_LOW, "Low", "#95A5A6"),
                priority(PRIORITY_MEDIUM, "Medium", "#3498DB"),
                priority(PRIORITY_HIGH, "High", "#E67E22"),
                priority(PRIORITY_CRITICAL, "Critical", "#E74C3C"),
            ],
            queues: vec![
                queue(QUEUE_SERVICE_DESK, "Service Desk"),
                queue(QUEUE_ESCALATIONS, "Escalations"),
                queue(QUEUE_PROJECTS, "Projects"),
            ],
            assignees: assignees(),
            ticket_types: vec![
                lookup(TYPE_SERVICE_REQUEST, "Service Request", true),
                lookup(TYPE_INCIDENT, "Incident", false),
                lookup(TYPE_PROBLEM, "Problem", false),
            ],
            ticket_sources: vec![
                lookup(SOURCE_CLIENT_PORTAL, "Client Portal", false),
                lookup(SOURCE_PHONE, "Phone", false),
                lookup(SOURCE_EMAIL, "Email", false),
                lookup(SOURCE_MONITORING_SYSTEM, "Monitoring System", false),
                lookup(SOURCE_OTHER, "Other", true),
            ],
            assets: assets(),
            issue_types: issue_types(),
        }
    }
}

/// Each account's main location, and a second one for two of them.
fn locations() -> Vec<Location> {
    vec![
        location(LOCATION_FABRIKAM_HQ, ACCOUNT_FABRIKAM, "Fabrikam HQ", true),
        location(
            LOCATION_FABRIKAM_BRANCH,
            ACCOUNT_FABRIKAM,
            "Fabrikam Branch",
            false,
        ),
        location(
            LOCATION_NORTHWIND_MAIN,
            ACCOUNT_NORTHWIND,
            "Northwind Main",
            true,
        ),
        location(
            LOCATION_NORTHWIND_WAREHOUSE,
            ACCOUNT_NORTHWIND,
            "Northwind Warehouse",
            false,
        ),
        location(
            LOCATION_UNREGISTERED,
            ACCOUNT_UNREGISTERED,
            "Unregistered",
            true,
        ),
    ]
}

/// Dan Jump first (a point of contact with portal access), a contact without a location, a
/// near-match of Dan's e-mail, the catch-all, and an inactive contact last.
fn contacts() -> Vec<Contact> {
    let mut old_timer = contact(
        CONTACT_OLD_TIMER,
        ACCOUNT_FABRIKAM,
        Some(LOCATION_FABRIKAM_HQ),
        ("Old", "Timer"),
        "old.timer@fabrikam.com",
    );
    old_timer.is_active = false;
    let mut dan = contact(
        CONTACT_DAN_JUMP,
        ACCOUNT_FABRIKAM,
        Some(LOCATION_FABRIKAM_BRANCH),
        ("Dan", "Jump"),
        "dan.jump@fabrikam.com",
    );
    dan.job_title = Some("Office Manager".to_owned());
    dan.is_poc = true;
    dan.has_client_portal_access = true;
    vec![
        dan,
        contact(
            CONTACT_ANN_BEEBE,
            ACCOUNT_NORTHWIND,
            None,
            ("Ann", "Beebe"),
            "Ann.Beebe@Northwind.com",
        ),
        contact(
            CONTACT_DANNY_JUMPER,
            ACCOUNT_FABRIKAM,
            Some(LOCATION_FABRIKAM_HQ),
            ("Danny", "Jumper"),
            "danny.jump@fabrikam.com",
        ),
        contact(
            CONTACT_UNREGISTERED,
            ACCOUNT_UNREGISTERED,
            Some(LOCATION_UNREGISTERED),
            ("Unregistered", "User"),
            "unregistered@helpdeskbuttons.com",
        ),
        old_timer,
    ]
}

fn assignees() -> Vec<Assignee> {
    vec![
        assignee(
            ASSIGNEE_JANE_TECH,
            "Jane Tech",
            "jane.tech@contoso-msp.com",
            "Technician",
        ),
        assignee(
            ASSIGNEE_BOB_ADMIN,
            "Bob Admin",
            "bob.admin@contoso-msp.com",
            "Administrator",
        ),
        assignee(
            ASSIGNEE_DAN_JUMP,
            "Dan Jump",
            "dan.jump@contoso-msp.com",
            "Technician",
        ),
    ]
}

#[allow(clippy::too_many_arguments)]
fn asset(
    id: i64,
    account_id: i64,
    contact_id: Option<i64>,
    location_id: Option<i64>,
    name: &str,
    ip_address: Option<&str>,
) -> HardwareAsset {
    HardwareAsset {
        id,
        account_id,
        contact_id,
        location_id,
        name: name.to_owned(),
        ip_address: ip_address.map(str::to_owned),
        serial_number: format!("SN-{id}"),
        category: "Workstation".to_owned(),
        is_active: true,
    }
}

/// Dan's computer, a Northwind laptop, a front-desk name two customers share, and a retired
/// Fabrikam computer last.
fn assets() -> Vec<HardwareAsset> {
    let mut retired = asset(
        ASSET_FAB_OLD_01,
        ACCOUNT_FABRIKAM,
        None,
        Some(LOCATION_FABRIKAM_HQ),
        "FAB-OLD-01",
        Some("10.1.0.99"),
    );
    retired.is_active = false;
    vec![
        asset(
            ASSET_FAB_PC_0042,
            ACCOUNT_FABRIKAM,
            Some(CONTACT_DAN_JUMP),
            Some(LOCATION_FABRIKAM_BRANCH),
            "FAB-PC-0042",
            Some("10.1.0.42"),
        ),
        asset(
            ASSET_NW_LAPTOP_07,
            ACCOUNT_NORTHWIND,
            None,
            Some(LOCATION_NORTHWIND_MAIN),
            "NW-LAPTOP-07",
            Some("10.2.0.7"),
        ),
        asset(
            ASSET_FABRIKAM_RECEPTION,
            ACCOUNT_FABRIKAM,
            None,
            Some(LOCATION_FABRIKAM_HQ),
            "RECEPTION",
            Some("10.1.0.10"),
        ),
        asset(
            ASSET_NORTHWIND_RECEPTION,
            ACCOUNT_NORTHWIND,
            None,
            Some(LOCATION_NORTHWIND_MAIN),
            "RECEPTION",
            Some("10.2.0.10"),
        ),
        retired,
    ]
}

fn issue_types() -> Vec<IssueType> {
    let sub = |id: i64, name: &str| (id, name.to_owned());
    vec![
        IssueType {
            id: ISSUE_TYPE_HARDWARE,
            name: "Hardware".to_owned(),
            is_active: true,
            sub_types: vec![
                sub(SUB_ISSUE_TYPE_PRINTER, "Printer"),
                sub(SUB_ISSUE_TYPE_LAPTOP, "Laptop"),
            ],
        },
        IssueType {
            id: ISSUE_TYPE_SOFTWARE,
            name: "Software".to_owned(),
            is_active: true,
            sub_types: vec![sub(SUB_ISSUE_TYPE_EMAIL, "Email")],
        },
        IssueType {
            id: ISSUE_TYPE_LEGACY,
            name: "Legacy".to_owned(),
            is_active: false,
            sub_types: Vec::new(),
        },
    ]
}
