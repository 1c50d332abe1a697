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
//!
//! What the converter holds is bounded whatever the message: the text stops at the limit it is
//! given (a message that would be longer is refused, not cut), the stack at `MAX_DEPTH`, and
//! text and attributes are read where they are, never copied whole.

use std::collections::HashMap;

mod entities;
mod link;
mod markup;
mod output;
#[cfg(test)]
mod tests;
mod text;

use markup::{Markup, Tag, markup, raw_end};
use output::Output;

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
/// Open elements kept on the stack. No message nests this deep; past it an element is not kept
/// open: its start still ends the line or parts the cells, but it opens no list, quote, link,
/// preformatted or hidden text, so the stack and what hangs on it stay small.
const MAX_DEPTH: usize = 1024;
/// Elements whose start changes how everything up to their end reads; past [`MAX_DEPTH`] they
/// are left out.
const HOLDING: &str = "ul ol blockquote pre head template a";

fn listed(names: &str, name: &str) -> bool {
    names.split_ascii_whitespace().any(|n| n == name)
}

/// The readable text of `html`, at most [`MAX_FIELD_BYTES`](crate::button::MAX_FIELD_BYTES)
/// long as the message field holds it (see [`to_text_within`]).
pub fn to_text(html: &str) -> Result<String, String> {
    to_text_within(html, crate::button::MAX_FIELD_BYTES)
}

/// The readable text of `html` if it is at most `max_bytes` long. Any text reads as HTML, as a
/// browser shows anything, so the only error is text that would be longer: conversion stops
/// there, and the error says so, for a 400.
pub fn to_text_within(html: &str, max_bytes: usize) -> Result<String, String> {
    convert(html, max_bytes).finish().ok_or_else(|| {
        format!(
            "is more than {max_bytes} bytes once its HTML is read as text; at most {max_bytes} \
             bytes are accepted"
        )
    })
}

fn convert(html: &str, max_bytes: usize) -> Converter<'_> {
    let mut c = Converter::new(max_bytes);
    let mut pos = 0;
    while !c.out.is_full()
        && let Some(rest) = html.get(pos..).filter(|r| !r.is_empty())
    {
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
    c
}

/// An open `<ul>` or `<ol>`: the indent its items start at, and an `<ol>`'s next number.
/// Numbers are what a browser's DOM holds (32 bits): a `start` beyond them counts from 1, as a
/// browser's list does, and counting stops at the largest.
struct List {
    base: usize,
    next: Option<i32>,
}

/// An open element, with the prefix length to go back to when it closes.
struct Open {
    name: String,
    restore: usize,
}

/// The text so far, and what is owed before the next text: breaks, spaces, a list item's marker.
struct Converter<'a> {
    out: Output,
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
    open: Vec<Open>,
    /// How many elements of each name are open; names with none are not kept.
    counts: HashMap<String, usize>,
    lists: Vec<List>,
    /// The open link's URL as written; where its text starts is marked in `out`.
    link: Option<&'a str>,
}

impl<'a> Converter<'a> {
    fn new(max_bytes: usize) -> Self {
        Converter {
            out: Output::new(max_bytes),
            brk: 0,
            space: 0,
            line_empty: false,
            prefix: String::new(),
            marker: None,
            skip: 0,
            pre: 0,
            pre_start: false,
            open: Vec::new(),
            counts: HashMap::new(),
            lists: Vec::new(),
            link: None,
        }
    }

    fn is_open(&self, name: &str) -> bool {
        self.counts.get(name).is_some_and(|&n| n > 0)
    }

    fn start(&mut self, tag: &Tag<'a>) {
        let name = tag.name.as_str();
        self.pre_start = false;
        if self.is_open("head") && !self.is_open("template") && !listed(HEAD, name) {
            self.end("head");
        }
        let kept_open = !listed(VOID, name) && self.open.len() < MAX_DEPTH;
        if !kept_open && !listed(VOID, name) && listed(HOLDING, name) {
            if listed(PARAGRAPHS, name) {
                self.block(2);
            } else if listed(LINES, name) {
                self.block(1);
            }
            return;
        }
        if name == "a" && self.is_open("a") {
            self.end("a"); // Links do not nest: a new one ends the last.
        }
        let mut restore = self.prefix.len();
        match name {
            "br" => self.line_break(),
            "img" => self.words(tag.attr("alt").unwrap_or_default(), true),
            "a" if self.skip == 0 => {
                self.link = tag.attr("href");
                self.out.set_mark();
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
            "li" => restore = self.item(tag, kept_open),
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
        if kept_open {
            self.open.push(Open {
                name: tag.name.clone(),
                restore,
            });
            *self.counts.entry(tag.name.clone()).or_default() += 1;
            if tag.self_closing {
                self.end(name);
            }
        }
    }

    /// Starts a list item, returning the prefix length to go back to. Its marker waits for the
    /// item's first text, so a paragraph inside the item does not part it from its marker. An
    /// item not kept open indents nothing: there is no end to take the indent back.
    fn item(&mut self, tag: &Tag, kept_open: bool) -> usize {
        let value = tag.attr("value").and_then(|v| v.trim().parse::<i32>().ok());
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
        if kept_open {
            self.indent(&" ".repeat(marker.len()));
        }
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
        while let Some(open) = self.open.last() {
            let done = open.name == name;
            self.pop();
            if done {
                break;
            }
        }
    }

    fn pop(&mut self) {
        let Some(Open { name, restore }) = self.open.pop() else {
            return;
        };
        if let Some(n) = self.counts.get_mut(&name) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.counts.remove(&name);
            }
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

    /// The text, with every element left open closed; `None` if it passed the limit.
    fn finish(mut self) -> Option<String> {
        while !self.out.is_full() && !self.open.is_empty() {
            self.pop();
        }
        self.out.finish()
    }
}
