//! The operation model: what the crate knows about each operation of an API, written by
//! `build.rs` from the spec as one table per API (`OPERATIONS` in each API's `operations`
//! module). Every surface outside the generated calls reads it: the transport's checks, the
//! typed paginators (generated from the same table), the operation call path, the streamed
//! reply and the MCP server's tools.
//!
//! The types are public in a private module: the API marker trait names the table, and no
//! user can reach it.

/// An HTTP method the specs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Post,
    Patch,
    Delete,
}

impl Method {
    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Put => reqwest::Method::PUT,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }

    /// Its name as HTTP writes it (`GET`).
    #[cfg_attr(not(any(feature = "sandbox", feature = "cli")), allow(dead_code))]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    /// No operation of the specs takes one today; the model has the place for it.
    #[allow(dead_code)]
    Header,
}

/// A spec's tag: a group of operations (a command group of the tool, a toolset of the MCP
/// server).
#[derive(Debug)]
pub struct Tag {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
}

/// One parameter of an operation, as the transport checks it before a request leaves. How a
/// parameter is described to a person or an assistant (its type, format, values and help) is
/// in the argument schema ([`Arguments`]), which every surface reads.
#[derive(Debug)]
pub struct Param {
    pub(crate) name: &'static str,
    pub(crate) location: Location,
    pub(crate) minimum: Option<i64>,
    pub(crate) maximum: Option<i64>,
    /// The parameter whose value this one's must not come before (an end date's start): the
    /// spec's `x-not-before`.
    pub(crate) not_before: Option<&'static str>,
}

/// An operation's JSON request body.
#[derive(Debug)]
pub struct Body {
    /// Its top-level properties, without those a single answer cannot carry (`stream`).
    pub(crate) properties: &'static [&'static str],
}

/// How a list operation's pages are read.
#[derive(Debug)]
pub struct List {
    /// The page's array of items.
    pub(crate) items: &'static str,
    /// The query parameter that takes the cursor (`cursor`, or `after` for messages).
    pub(crate) cursor: &'static str,
    /// Where the next page's cursor is, as a JSON pointer.
    pub(crate) next_cursor: &'static str,
    /// Where the page says whether more exist, when it does, as a JSON pointer.
    pub(crate) has_more: Option<&'static str>,
    /// The query parameter that sets the page's size, when the list takes one.
    #[cfg_attr(not(any(feature = "mcp", feature = "cli")), allow(dead_code))]
    pub(crate) page_size: Option<PageSize>,
}

/// A list's page-size parameter and its documented bounds.
#[derive(Debug)]
#[cfg_attr(not(any(feature = "mcp", feature = "cli")), allow(dead_code))]
pub struct PageSize {
    pub(crate) name: &'static str,
    pub(crate) minimum: Option<i64>,
    pub(crate) maximum: Option<i64>,
    /// The server's default, when the spec gives it (the tool's help says it).
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    pub(crate) default: Option<i64>,
}

/// An operation's arguments when it is called by name with a JSON object of them (an MCP
/// tool, a command of the command-line tool).
#[cfg(any(feature = "mcp", feature = "cli"))]
#[derive(Debug)]
pub struct Arguments {
    /// Their JSON Schema, as JSON text: parameters and body properties side by side, every
    /// `$ref` written out.
    pub(crate) schema: &'static str,
    /// Whether the body is the single `body` argument rather than one argument per property.
    pub(crate) body_whole: bool,
    /// The dot paths of one record of the answer (an item of a list, else the answer), each
    /// with whether a path may go on below it unchecked (an array, or an object whose members
    /// the spec does not name); `None` when the spec gives the answer no JSON schema.
    pub(crate) record_fields: Option<&'static [(&'static str, bool)]>,
}

/// One operation of one API.
#[derive(Debug)]
pub struct Operation {
    pub(crate) id: &'static str,
    pub(crate) method: Method,
    /// The path template, relative to the API's base URL (`/deals/{dealId}/agent`).
    pub(crate) path: &'static str,
    pub(crate) tag: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) description: &'static str,
    pub(crate) deprecated: bool,
    /// Whether it starts agent work the workspace pays for in credits (`x-spends-credits`).
    pub(crate) spends_credits: bool,
    /// Whether it needs no credential (its spec entry lists no security requirement).
    pub(crate) public: bool,
    pub(crate) params: &'static [Param],
    pub(crate) body: Option<Body>,
    /// Whether the operation can also answer as an event stream.
    pub(crate) streams: bool,
    pub(crate) list: Option<List>,
    #[cfg(any(feature = "mcp", feature = "cli"))]
    pub(crate) arguments: Arguments,
}

impl Operation {
    /// Whether calling it changes something.
    #[cfg_attr(not(feature = "mcp"), allow(dead_code))]
    pub(crate) fn writes(&self) -> bool {
        self.method != Method::Get
    }

    /// What calling it does that cannot be taken back, for a door that asks a person first.
    #[cfg_attr(not(any(feature = "mcp", feature = "cli")), allow(dead_code))]
    pub(crate) fn consequence(&self) -> Option<Consequence> {
        if self.method == Method::Delete {
            Some(Consequence::Destroys)
        } else if self.spends_credits {
            Some(Consequence::SpendsCredits)
        } else {
            None
        }
    }

    /// Its parameter of this name and place.
    pub(crate) fn param(&self, name: &str, location: Location) -> Option<&'static Param> {
        self.params
            .iter()
            .find(|p| p.name == name && p.location == location)
    }
}

/// What a call does that cannot be taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(not(any(feature = "mcp", feature = "cli")), allow(dead_code))]
pub(crate) enum Consequence {
    /// It starts agent work, paid for in the workspace's credits.
    SpendsCredits,
    /// It deletes data (a deal's agent takes its conversations with it).
    Destroys,
}

impl Consequence {
    /// What it does, as the end of a sentence: "This call …".
    #[cfg_attr(not(any(feature = "mcp", feature = "cli")), allow(dead_code))]
    pub(crate) fn says(self) -> &'static str {
        match self {
            Consequence::SpendsCredits => "starts agent work that spends the workspace's credits",
            Consequence::Destroys => "deletes data that cannot be restored",
        }
    }
}

/// The operation of this id in a table.
pub(crate) fn find(operations: &'static [Operation], id: &str) -> Option<&'static Operation> {
    operations.iter().find(|op| op.id == id)
}
