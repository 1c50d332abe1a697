//! The markup of a message, read a piece at a time: tags, comments and the text between.

/// A start tag: its lower-case name, its attributes as written, and whether it ends itself (`/>`).
pub(super) struct Tag<'a> {
    pub(super) name: String,
    attrs: Vec<(&'a str, &'a str)>,
    pub(super) self_closing: bool,
}

impl<'a> Tag<'a> {
    pub(super) fn attr(&self, name: &str) -> Option<&'a str> {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, v)| v)
    }
}

/// Comments, doctypes and processing instructions are `Other`: nothing to show.
pub(super) enum Markup<'a> {
    Start(Tag<'a>),
    End(String),
    Other,
}

/// The markup the `<` at `pos` starts, and where it ends; `None` when that `<` is text.
pub(super) fn markup(html: &str, pos: usize) -> Option<(Markup<'_>, usize)> {
    let rest = html.get(pos..)?;
    if let Some(body) = rest.strip_prefix("<!--") {
        // `<!-->` and `<!--->` end at once, as they do in a browser.
        let len = if body.starts_with('>') {
            1
        } else if body.starts_with("->") {
            2
        } else {
            body.find("-->").map_or(body.len(), |i| i + 3)
        };
        return Some((Markup::Other, pos + 4 + len));
    }
    let to_gt = |from| {
        html.get(from..)
            .and_then(|r| r.find('>'))
            .map_or(html.len(), |i| from + i + 1)
    };
    // A browser drops a tag the message ends inside.
    let unended = (Markup::Other, html.len());
    let b = html.as_bytes();
    match *b.get(pos + 1)? {
        b'!' | b'?' => Some((Markup::Other, to_gt(pos + 2))),
        b'/' if b.get(pos + 2)?.is_ascii_alphabetic() => {
            Some(tag(html, pos + 2).map_or(unended, |(t, end)| (Markup::End(t.name), end)))
        }
        b'/' => Some((Markup::Other, to_gt(pos + 2))),
        c if c.is_ascii_alphabetic() => {
            Some(tag(html, pos + 1).map_or(unended, |(t, end)| (Markup::Start(t), end)))
        }
        _ => None,
    }
}

fn skip_while(b: &[u8], mut p: usize, f: impl Fn(u8) -> bool) -> usize {
    while b.get(p).is_some_and(|&c| f(c)) {
        p += 1;
    }
    p
}

/// The tag whose name starts at `start`, and where it ends; `None` if the message ends first.
/// Positions only ever stop at ASCII delimiters, so every slice is at a character boundary.
fn tag(html: &str, start: usize) -> Option<(Tag<'_>, usize)> {
    let b = html.as_bytes();
    let name_char = |c: u8| !c.is_ascii_whitespace() && c != b'/' && c != b'>';
    let mut p = skip_while(b, start, name_char);
    let name = html.get(start..p)?.to_ascii_lowercase();
    let mut tag = Tag {
        name,
        attrs: Vec::new(),
        self_closing: false,
    };
    loop {
        match *b.get(p)? {
            b'>' => return Some((tag, p + 1)),
            b'/' if b.get(p + 1) == Some(&b'>') => {
                tag.self_closing = true;
                return Some((tag, p + 2));
            }
            c if c.is_ascii_whitespace() || c == b'/' => p += 1,
            _ => {
                let name_start = p;
                p = skip_while(b, p + 1, |c| name_char(c) && c != b'=');
                let name = html.get(name_start..p)?;
                p = skip_while(b, p, |c| c.is_ascii_whitespace());
                let mut value = "";
                if b.get(p) == Some(&b'=') {
                    p = skip_while(b, p + 1, |c| c.is_ascii_whitespace());
                    let quote = *b.get(p)?;
                    if quote == b'"' || quote == b'\'' {
                        let end = skip_while(b, p + 1, |c| c != quote);
                        value = html.get(p + 1..end).filter(|_| end < b.len())?;
                        p = end + 1;
                    } else {
                        let end = skip_while(b, p, |c| !c.is_ascii_whitespace() && c != b'>');
                        value = html.get(p..end)?;
                        p = end;
                    }
                }
                tag.attrs.push((name, value));
            }
        }
    }
}

/// Where the raw text of a `name` element that starts at `from` ends, past its end tag.
pub(super) fn raw_end(html: &str, from: usize, name: &str) -> usize {
    let b = html.as_bytes();
    let mut at = from;
    while let Some(i) = html.get(at..).and_then(|r| r.find("</")) {
        let after = at + i + 2;
        let named = b.get(after..after + name.len());
        let ends = named.is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            && b.get(after + name.len())
                .is_none_or(|&c| c == b'/' || c == b'>' || c.is_ascii_whitespace());
        if ends {
            return markup(html, at + i).map_or(html.len(), |(_, end)| end);
        }
        at = after;
    }
    html.len()
}
