//! A link's text followed by where it leads, as a reader of the text needs it.

use super::Converter;
use super::entities::{Piece, decode_each};

impl Converter<'_> {
    /// Follows a link's text with where it leads, unless the text says so already or the link
    /// leads nowhere a reader could go (an anchor on the same page).
    pub(super) fn finish_link(&mut self) {
        let Some(href) = self.link.take() else {
            return;
        };
        let (url, long) = link_url(href, self.out.max().saturating_add(8));
        let shown = match url.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => &url[7..],
            _ => &url,
        };
        let text = self.out.take_marked().unwrap_or_default().trim();
        let (said, empty) = (text == url || text == shown, text.is_empty());
        if url.is_empty() || url.starts_with('#') || said {
            return;
        }
        if long {
            // Too long to show within the limit: the message is.
            self.out.overflow();
        } else if empty {
            self.write(shown);
        } else {
            for s in [" (", shown, ")"] {
                self.out.push(s);
            }
        }
    }
}

/// A link's URL as a reader sees it, decoded and without the tabs and newlines a browser leaves
/// out (they are the source's line wrapping), and whether it is longer than `max` bytes: only
/// that much is kept.
fn link_url(href: &str, max: usize) -> (String, bool) {
    let (mut url, mut long) = (String::new(), false);
    decode_each(href, true, |piece| {
        let mut buf = [0; 4];
        let s = match piece {
            Piece::Run(run) => run,
            Piece::Char(c) => &*c.encode_utf8(&mut buf),
        };
        for c in s.chars() {
            if matches!(c, '\t' | '\n' | '\r') || (url.is_empty() && c.is_whitespace()) {
                continue;
            }
            if url.len() < max {
                url.push(c);
            } else if !c.is_whitespace() {
                long = true;
                return false;
            }
        }
        true
    });
    let len = url.trim_end().len();
    url.truncate(len);
    (url, long)
}
