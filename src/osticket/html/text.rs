//! Text between tags, written after what the markup before it owes: words, whose whitespace
//! collapses, and preformatted lines, whose whitespace is kept.

use super::Converter;
use super::entities::{Piece, decode_each};

impl Converter<'_> {
    pub(super) fn text(&mut self, raw: &str) {
        if raw.is_empty() || self.skip > 0 {
            return;
        }
        if self.pre == 0 {
            return self.words(raw, false);
        }
        let mut after_cr = false;
        decode_each(raw, false, |piece| {
            match piece {
                Piece::Run(run) => self.preformatted(run, &mut after_cr),
                Piece::Char(c) => self.preformatted(c.encode_utf8(&mut [0; 4]), &mut after_cr),
            }
            !self.out.is_full()
        });
    }

    /// Text inside `<pre>`: each line break, whether CR, LF or CRLF, ends the line.
    fn preformatted(&mut self, text: &str, after_cr: &mut bool) {
        let mut rest = text;
        loop {
            let at = rest.find(['\r', '\n']).unwrap_or(rest.len());
            if at > 0 {
                (*after_cr, self.pre_start) = (false, false);
                self.write(&rest[..at]);
            }
            let Some(c) = rest[at..].chars().next() else {
                return;
            };
            rest = &rest[at + 1..];
            if c == '\n' && std::mem::take(after_cr) {
                continue; // The LF of a CRLF.
            }
            *after_cr = c == '\r';
            // A browser drops the newline right after `<pre>`: it only lays out the source.
            if !std::mem::take(&mut self.pre_start) {
                self.line_break();
            }
        }
    }

    /// Text outside `<pre>`: any run of HTML whitespace shows as one space (`&nbsp;` is none).
    pub(super) fn words(&mut self, raw: &str, in_attr: bool) {
        decode_each(raw, in_attr, |piece| {
            match piece {
                Piece::Run(run) => {
                    for (i, word) in run.split(|c: char| c.is_ascii_whitespace()).enumerate() {
                        if i > 0 {
                            self.space = self.space.max(1);
                        }
                        self.write(word);
                    }
                }
                Piece::Char(c) if c.is_ascii_whitespace() => self.space = self.space.max(1),
                Piece::Char(c) => self.write(c.encode_utf8(&mut [0; 4])),
            }
            !self.out.is_full()
        });
    }

    /// Writes `s` after what is owed: the breaks, then a new line's prefix and marker, or spaces.
    pub(super) fn write(&mut self, s: &str) {
        if self.skip > 0 || s.is_empty() || self.out.is_full() {
            return;
        }
        if !self.out.has_line() || self.brk > 0 {
            self.out.start_line(self.brk);
            let (len, marker) = self
                .marker
                .take()
                .unwrap_or((self.prefix.len(), String::new()));
            self.out
                .push(self.prefix.get(..len).unwrap_or(&self.prefix));
            self.out.push(&marker);
            self.brk = 0;
            self.line_empty = true;
        }
        if !self.line_empty {
            self.out.push(&"  "[..usize::from(self.space.min(2))]);
        }
        self.space = 0;
        self.line_empty = false;
        self.out.push(s);
    }
}
