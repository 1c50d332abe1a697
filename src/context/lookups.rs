//! The lists BMS knows things by id in (statuses, priorities, queues, …): one row each, naming
//! what a technician calls it and where BMS serves it. The variable that holds a name from a
//! list is the one whose row in [`VARIABLES`](super::VARIABLES) resolves through it.

/// Where BMS serves a lookup list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupPath {
    /// The whole list in one answer.
    List(&'static str),
    /// The list page by page.
    Pages(&'static str),
    /// One of BMS's lookup tables (`/v2/system/lookup/{table}`), the table named by a setting.
    Table(Table),
    /// A list per item of another list: `{id}` is that item's id (the sub-types of an issue
    /// type).
    Sub(&'static str),
}

/// The settings that name a BMS lookup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `KASEYA_TICKET_TYPE_TABLE`.
    TicketType,
    /// `KASEYA_TICKET_SOURCE_TABLE`.
    TicketSource,
}

/// One lookup list: what a technician calls it, a name such a list usually holds, and where BMS
/// serves it.
#[derive(Debug, Clone, Copy)]
pub struct LookupList {
    pub lookup: Lookup,
    pub label: &'static str,
    pub example: &'static str,
    pub path: LookupPath,
}

/// Declares [`Lookup`] and its table [`LOOKUPS`] from one row per list, so that neither can
/// have an entry the other lacks, and `LOOKUPS[l as usize]` is `l`'s row.
macro_rules! lookups {
    ($($variant:ident: $label:literal, e.g. $example:literal, $path:expr;)*) => {
        /// The lists that BMS knows read/write variables by id in.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Lookup {
            $($variant),*
        }

        /// Every lookup list, in the order of [`Lookup`]'s variants.
        pub const LOOKUPS: &[LookupList] = &[$(LookupList {
            lookup: Lookup::$variant,
            label: $label,
            example: $example,
            path: $path,
        }),*];
    };
}

lookups! {
    Status: "status", e.g. "New", LookupPath::List("/v2/system/statuses/lookup");
    Priority: "priority", e.g. "High", LookupPath::List("/v2/system/priorities/lookup");
    Queue: "queue", e.g. "Service Desk", LookupPath::List("/v2/system/queues/lookup");
    Assignee: "assignee", e.g. "Jane Tech", LookupPath::Pages("/v2/hr/assignees/lookup");
    TicketType: "ticket type", e.g. "Service Request", LookupPath::Table(Table::TicketType);
    TicketSource: "ticket source", e.g. "Other", LookupPath::Table(Table::TicketSource);
    Account: "account", e.g. "Fabrikam Inc", LookupPath::Pages("/v2/crm/accounts/lookup");
    IssueType: "issue type", e.g. "Hardware", LookupPath::List("/v2/system/issuetypes/lookup");
    SubIssueType: "sub-issue type", e.g. "Printer",
        LookupPath::Sub("/v2/system/issuetypes/{id}/issuesubtypes/lookup");
}

impl Lookup {
    /// Every lookup, in the order of their rows.
    pub const ALL: [Lookup; LOOKUPS.len()] = {
        let mut all = [LOOKUPS[0].lookup; LOOKUPS.len()];
        let mut i = 0;
        while i < LOOKUPS.len() {
            all[i] = LOOKUPS[i].lookup;
            i += 1;
        }
        all
    };

    /// Its row of [`LOOKUPS`].
    pub fn list(self) -> &'static LookupList {
        &LOOKUPS[self as usize]
    }

    /// What a technician calls it, for messages.
    pub fn label(self) -> &'static str {
        self.list().label
    }

    /// A name such a list usually holds, for messages.
    pub fn example(self) -> &'static str {
        self.list().example
    }

    /// Where BMS serves the list.
    pub fn path(self) -> LookupPath {
        self.list().path
    }
}
