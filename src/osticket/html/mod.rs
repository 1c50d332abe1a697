//! An HTML message (`data:text/html,…`) as text a technician reads in BMS: paragraphs and line
//! breaks kept, list items as `- ` or `1. ` lines, table rows as lines, quotes as `> ` lines,
//! links as `text (url)`, images as their alternative text, entities decoded, no tags, and
//! nothing of scripts, styles or the document head.
//!
//! The markup is read in one pass and forgiven as a browser forgives it: a `<` that starts no tag
//! is text, an element left open ends with the message, an end tag that closes nothing is
//! ignored. Open elements are kept on a stack, not followed by recursion, so any depth of nesting
//! reads, in time linear in the message. Whitespace collapses as a browser shows it, except in
//! `<pre>`.

use std::collections::HashMap;

mod entities;
mod markup;
#[cfg(test)]
mod tests;

use entities::decode;
use markup::{Markup, Tag, markup, raw_end};

/// Set apart by a blank line, as a browser sets them apart by a margin.
const PARAGRAPHS: &str = "p h1 h2 h3 h4 h5 h6 blockquote pre table dl figure fieldset hr";
/// On lines of their own, without a margin: mail clients write each line of a message as a `<div>`.
const LINES: &str = "div section article header footer nav main aside address form center \
                     figcaption details summary caption tr dt dd li ul ol";
/// Elements that hold nothing, so no end tag is waited for.
const VOID: &str = "area base br col embed hr img input link meta param source track wbr";
/// Text, not markup, up to their end tag (a `</p>` in a script's string ends nothing); unshown.
const RAW: &str = "script style title";
/// What a head holds: anything else starts the body, so a missing `</head>` hides no message.
const HEAD: &str = "base link meta noscript template";
/// Deeper quotes and lists are not indented further, which keeps the output linear in the input.
const MAX_INDENT: usize = 40;

fn listed(names: &str, name: &str) -> bool {
    names.split_ascii_whitespace().any(|n| n == name)
}

/// The readable text of `html`. Any text reads as HTML, as a browser shows anything, so this is
/// `Ok` today; the error would say why the HTML could not be read, for a 400.
pub fn to_text(html: &str) -> Result<String, String> {
    let mut c = Converter::default();
    let mut pos = 0;
    while let Some(rest) = html.get(pos..).filter(|r| !r.is_empty()) {
        let Some(lt) = rest.find('<') else {
            c.text(rest);
            break;
        };
        c.text(&rest[..lt]);
        pos += lt;
        pos = match markup(html, pos) {
            None => {
                c.text("<");
                pos + 1
            }
            Some((Markup::Start(tag), end)) if listed(RAW, &tag.name) && !tag.self_closing => {
                raw_end(html, end, &tag.name)
            }
            Some((Markup::Start(tag), end)) => {
                c.start(&tag);
                end
            }
            Some((Markup::End(name), end)) => {
                c.end(&name);
                end
            }
            Some((Markup::Other, end)) => end,
        };
    }
    Ok(c.finish())
}

/// An open `<ul>` or `<ol>`: the indent its items start at, and an `<ol>`'s next number.
struct List {
    base: usize,
    next: Option<i64>,
}

/// The text so far, and what is owed before the next text: breaks, spaces, a list item's marker.
#[derive(Default)]
struct Converter {
    out: String,
    /// Newlines owed: 1 ends the line, 2 leaves a blank line too.
    brk: u8,
    /// Spaces owed, if the text goes on on the same line: 1 between words, 2 between cells.
    space: u8,
    /// Nothing but prefix and marker is on the current line, so spaces are not owed there.
    line_empty: bool,
    /// Every line's start: `> ` for each quote, spaces under each list item's marker.
    prefix: String,
    /// A list item's marker, with the length of prefix written before it.
    marker: Option<(usize, String)>,
    skip: usize,
    pre: usize,
    pre_start: bool,
    /// Open elements, with the prefix length to go back to when each closes.
    open: Vec<(String, usize)>,
    counts: HashMap<String, usize>,
    lists: Vec<List>,
    /// The open link's URL, and where its text starts in `out`.
    link: Option<(String, usize)>,
}

impl Converter {
    fn is_open(&self, name: &str) -> bool {
        self.counts.get(name).is_some_and(|&n| n > 0)
    }

    fn start(&mut self, tag: &Tag) {
        let name = tag.name.as_str();
        self.pre_start = false;
        if self.is_open("head") && !self.is_open("template") && !listed(HEAD, name) {
            self.end("head");
        }
        if name == "a" && self.is_open("a") {
            self.end("a"); // Links do not nest: a new one ends the last.
        }
        let mut restore = self.prefix.len();
        match name {
            "br" => self.line_break(),
            "img" => self.words(&decode(tag.attr("alt").unwrap_or_default(), true)),
            "a" if self.skip == 0 => {
                self.link = tag.attr("href").map(|h| (decode(h, true), self.out.len()));
            }
            "ul" | "ol" => {
                // A list sits right under the text that introduces it.
                if self.owes_breaks() {
                    self.brk = 1;
                }
                let start = tag.attr("start").and_then(|s| s.trim().parse().ok());
                let next = (name == "ol").then(|| start.unwrap_or(1));
                self.lists.push(List {
                    base: self.prefix.len(),
                    next,
                });
            }
            "li" => restore = self.item(tag),
            "td" | "th" => self.space = 2,
            "blockquote" => {
                self.block(2);
                self.indent("> ");
            }
            "pre" => {
                self.block(2);
                self.pre += 1;
                self.pre_start = true;
            }
            "head" | "template" => self.skip += 1,
            _ if listed(PARAGRAPHS, name) => self.block(2),
            _ if listed(LINES, name) => self.block(1),
            _ => {}
        }
        if !listed(VOID, name) {
            self.open.push((tag.name.clone(), restore));
            *self.counts.entry(tag.name.clone()).or_default() += 1;
            if tag.self_closing {
                self.end(name);
            }
        }
    }

    /// Starts a list item, returning the prefix length to go back to. Its marker waits for the
    /// item's first text, so a paragraph inside the item does not part it from its marker.
    fn item(&mut self, tag: &Tag) -> usize {
        let value = tag.attr("value").and_then(|v| v.trim().parse::<i64>().ok());
        let (base, marker) = match self.lists.last_mut() {
            Some(List {
                base,
                next: Some(next),
            }) => {
                let n = value.unwrap_or(*next);
                *next = n.saturating_add(1);
                (*base, format!("{n}. "))
            }
            list => (list.map_or(self.prefix.len(), |l| l.base), "- ".to_string()),
        };
        // An item left open ends at the next: its indent is not the next one's.
        self.prefix.truncate(base);
        self.indent(&" ".repeat(marker.len()));
        if self.skip == 0 {
            self.brk = 1;
            self.marker = Some((base, marker));
        }
        base
    }

    fn end(&mut self, name: &str) {
        self.pre_start = false;
        if !self.is_open(name) {
            // What browsers make of these two.
            match name {
                "br" => self.line_break(),
                "p" => self.block(2),
                _ => {}
            }
            return;
        }
        while let Some((open, _)) = self.open.last() {
            let done = open == name;
            self.pop();
            if done {
                break;
            }
        }
    }

    fn pop(&mut self) {
        let Some((name, restore)) = self.open.pop() else {
            return;
        };
        if let Some(n) = self.counts.get_mut(&name) {
            *n = n.saturating_sub(1);
        }
        self.prefix.truncate(restore);
        match name.as_str() {
            "a" => self.finish_link(),
            "ul" | "ol" => drop(self.lists.pop()),
            "li" => self.marker = None, // An empty item shows nothing.
            "pre" => self.pre = self.pre.saturating_sub(1),
            "head" | "template" => self.skip = self.skip.saturating_sub(1),
            _ => {}
        }
        if listed(PARAGRAPHS, &name) {
            self.block(2);
        } else if listed(LINES, &name) {
            self.block(1);
        }
    }

    /// Follows a link's text with where it leads, unless the text says so already or the link
    /// leads nowhere a reader could go (an anchor on the same page).
    fn finish_link(&mut self) {
        let Some((href, start)) = self.link.take() else {
            return;
        };
        // A browser leaves tabs and newlines out of a URL: they are the source's line wrapping.
        let url: String = href
            .trim()
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        let shown = match url.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => &url[7..],
            _ => &url,
        };
        let text = self.out.get(start..).unwrap_or_default().trim();
        let (said, empty) = (text == url || text == shown, text.is_empty());
        if url.is_empty() || url.starts_with('#') || said {
            return;
        }
        if empty {
            self.write(shown);
        } else {
            self.out.push_str(&format!(" ({shown})"));
        }
    }

    fn indent(&mut self, s: &str) {
        if self.prefix.len() + s.len() <= MAX_INDENT {
            self.prefix.push_str(s);
        }
    }

    /// No breaks are owed in skipped content, nor before a list item's first text, which starts
    /// a line already.
    fn owes_breaks(&self) -> bool {
        self.marker.is_none() && self.skip == 0
    }

    fn block(&mut self, n: u8) {
        if self.owes_breaks() {
            self.brk = self.brk.max(n);
        }
    }

    /// Ends the line, or after an empty one leaves a blank line.
    fn line_break(&mut self) {
        if self.owes_breaks() {
            self.brk = (self.brk + 1).min(2);
        }
    }

    fn text(&mut self, raw: &str) {
        if raw.is_empty() || self.skip > 0 {
            return;
        }
        let text = decode(raw, false);
        if self.pre == 0 {
            return self.words(&text);
        }
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        // A browser drops the newline right after `<pre>`: it only lays out the source.
        let text = match std::mem::take(&mut self.pre_start) {
            true => text.strip_prefix('\n').unwrap_or(&text),
            false => &text,
        };
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.line_break();
            }
            self.write(line);
        }
    }

    /// Text outside `<pre>`: any run of HTML whitespace shows as one space (`&nbsp;` is none).
    fn words(&mut self, text: &str) {
        for (i, word) in text.split(|c: char| c.is_ascii_whitespace()).enumerate() {
            if i > 0 {
                self.space = self.space.max(1);
            }
            self.write(word);
        }
    }

    /// Writes `s` after what is owed: the breaks, then a new line's prefix and marker, or spaces.
    fn write(&mut self, s: &str) {
        if self.skip > 0 || s.is_empty() {
            return;
        }
        if self.out.is_empty() || self.brk > 0 {
            if !self.out.is_empty() {
                self.out.extend(std::iter::repeat_n('\n', self.brk.into()));
            }
            let (len, marker) = self
                .marker
                .take()
                .unwrap_or((self.prefix.len(), String::new()));
            self.out
                .push_str(self.prefix.get(..len).unwrap_or(&self.prefix));
            self.out.push_str(&marker);
            self.brk = 0;
            self.line_empty = true;
        }
        if !self.line_empty {
            self.out.extend(std::iter::repeat_n(' ', self.space.into()));
        }
        self.space = 0;
        self.line_empty = false;
        self.out.push_str(s);
    }

    /// The text with every line's end trimmed, and one blank line at most between paragraphs.
    fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.pop();
        }
        let mut text = String::with_capacity(self.out.len());
        let mut blank = false;
        for line in self.out.lines().map(str::trim_end) {
            if line.is_empty() {
                blank = !text.is_empty();
                continue;
            }
            if !text.is_empty() {
                text.push_str(if blank { "\n\n" } else { "\n" });
            }
            text.push_str(line);
            blank = false;
        }
        text
    }
}
