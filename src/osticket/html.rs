//! An HTML message (`data:text/html,…`) as text a technician reads in BMS: paragraphs and line
//! breaks kept, list items as lines, links as `text (url)`, entities decoded, no tags, and nothing
//! of scripts, styles or the document head.
//!
//! html2text parses with html5ever (the HTML5 parsing algorithm browsers use), so broken markup
//! reads as a browser would show it; this file only says how each element is written.

use html2text::render::{TaggedLine, TextDecorator};

/// Wide enough that a paragraph stays one line: html2text wraps at this width.
const WIDTH: usize = 2000;

/// The readable text of `html`. The error says why the HTML could not be read, for a 400.
pub fn to_text(html: &str) -> Result<String, String> {
    // Without borders, a table is its cells' text and a `<hr>` a blank line.
    let lines = html2text::config::with_decorator(Readable)
        .no_table_borders()
        .allow_width_overflow()
        .lines_from_read(html.as_bytes(), WIDTH)
        .map_err(|e| format!("holds HTML that could not be read ({e})"))?;
    let mut out = String::new();
    let mut blank_lines = 0;
    for line in &lines {
        let text = line_text(line);
        let text = text.trim_end();
        if text.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            // One blank line between paragraphs is enough, however many the HTML spaced out.
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        out.push_str(text);
    }
    Ok(out)
}

/// One rendered line, each link's text followed by its URL.
fn line_text(line: &TaggedLine<Vec<Mark>>) -> String {
    let mut out = String::new();
    // The link being written: its URL and its text so far.
    let mut link: Option<(&str, String)> = None;
    for piece in line.tagged_strings() {
        let url = piece.tag.iter().rev().find_map(|m| match m {
            Mark::Link(url) => Some(url.as_str()),
            Mark::Text => None,
        });
        if link.as_ref().map(|(u, _)| *u) != url {
            end_link(&mut out, link.take());
        }
        match url {
            Some(url) => link.get_or_insert_with(|| (url, String::new())).1 += &piece.s,
            None => out.push_str(&piece.s),
        }
    }
    end_link(&mut out, link);
    out
}

/// `text (url)`; just `text` when the text is the address already, or the link leads nowhere
/// a reader could go (an anchor on the same page).
fn end_link(out: &mut String, link: Option<(&str, String)>) {
    let Some((url, text)) = link else {
        return;
    };
    out.push_str(&text);
    let url = url.trim();
    let shown = url.strip_prefix("mailto:").unwrap_or(url);
    let text = text.trim();
    if !url.is_empty() && !url.starts_with('#') && text != shown && text != url {
        out.push_str(" (");
        out.push_str(shown);
        out.push(')');
    }
}

/// What a piece of rendered text is part of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Mark {
    #[default]
    Text,
    /// The text of a link to this URL.
    Link(String),
}

/// Plain text: no emphasis marks, headings as their own lines, list items as `- ` or `1. `
/// lines, quotes as `> ` lines, an image as its alternative text.
#[derive(Debug, Clone)]
struct Readable;

impl TextDecorator for Readable {
    type Annotation = Mark;

    fn decorate_link_start(&mut self, url: &str) -> (String, Mark) {
        (String::new(), Mark::Link(url.to_string()))
    }
    fn decorate_link_end(&mut self) -> String {
        String::new()
    }
    fn decorate_em_start(&self) -> (String, Mark) {
        (String::new(), Mark::Text)
    }
    fn decorate_em_end(&self) -> String {
        String::new()
    }
    fn decorate_strong_start(&self) -> (String, Mark) {
        (String::new(), Mark::Text)
    }
    fn decorate_strong_end(&self) -> String {
        String::new()
    }
    fn decorate_strikeout_start(&self) -> (String, Mark) {
        (String::new(), Mark::Text)
    }
    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }
    fn decorate_code_start(&self) -> (String, Mark) {
        (String::new(), Mark::Text)
    }
    fn decorate_code_end(&self) -> String {
        String::new()
    }
    fn decorate_preformat_first(&self) -> Mark {
        Mark::Text
    }
    fn decorate_preformat_cont(&self) -> Mark {
        Mark::Text
    }
    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, Mark) {
        (title.to_string(), Mark::Text)
    }
    fn header_prefix(&self, _level: usize) -> String {
        String::new()
    }
    fn quote_prefix(&self) -> String {
        "> ".into()
    }
    fn unordered_item_prefix(&self) -> String {
        "- ".into()
    }
    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }
    fn make_subblock_decorator(&self) -> Self {
        Readable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(html: &str) -> String {
        to_text(html).unwrap()
    }

    #[test]
    fn osticket_documentation_example() {
        assert_eq!(text("MESSAGE <b>HERE</b>"), "MESSAGE HERE");
    }

    #[test]
    fn paragraphs_breaks_and_lists() {
        let html = "<p>Hello,</p><p>my printer<br>is jammed.</p>\
                    <ul><li>Tray 1</li><li>Tray 2</li></ul><ol><li>first</li><li>second</li></ol>\
                    <h2>Details</h2><blockquote>quoted</blockquote><hr><div>end</div>\
                    <table><tr><td>Tray</td><td>1</td></tr><tr><td>Ink</td><td>low</td></tr></table>";
        assert_eq!(
            text(html),
            "Hello,\n\nmy printer\nis jammed.\n- Tray 1\n- Tray 2\n1. first\n2. second\n\n\
             Details\n\n> quoted\n\nend\n\nTray 1\nInk  low"
        );
    }

    #[test]
    fn links_entities_scripts_and_styles() {
        let html = "<html><head><title>T</title><style>p {color: red}</style></head><body>\
                    <script>alert('x')</script><p>See <a href=\"https://kb.example.com/42\">the \
                    article</a>, <a href=\"https://x.example\">https://x.example</a> or \
                    <a href=\"mailto:help@example.com\">help@example.com</a> &amp; &lt;tags&gt; \
                    &eacute;&#233;&nbsp;&#x1F600;</p><img src=\"s.png\" alt=\"screenshot\"></body></html>";
        let t = text(html);
        assert_eq!(
            t,
            "See the article (https://kb.example.com/42), https://x.example or help@example.com \
             & <tags> éé\u{a0}😀\n\nscreenshot"
        );
        assert!(!t.contains("alert") && !t.contains("color"), "{t}");
    }

    #[test]
    fn broken_and_deep_markup_still_reads() {
        assert_eq!(text("<p>unclosed <b>bold <i>both"), "unclosed bold both");
        assert_eq!(text(""), "");
        let deep = format!("{}deep{}", "<div>".repeat(5000), "</div>".repeat(5000));
        assert_eq!(text(&deep), "deep");
        // Nested deeper than the width holds: odd to look at, but read.
        let lists = format!(
            "{}item{}",
            "<ul><li>".repeat(2000),
            "</li></ul>".repeat(2000)
        );
        assert!(to_text(&lists).is_ok());
    }
}
