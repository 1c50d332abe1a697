use super::*;

/// How the converter reads, apart from how long the text may be.
fn text(html: &str) -> String {
    to_text_within(html, usize::MAX).unwrap()
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
         Details\n\n> quoted\n\nend\n\nTray  1\nInk  low"
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
    let lists = format!(
        "{}item{}",
        "<ul><li>".repeat(2000),
        "</li></ul>".repeat(2000)
    );
    assert!(to_text(&lists).is_ok());
    assert_eq!(text("<ul><li>a<li>b</ul>c</i></div>d"), "- a\n- b\ncd");
    assert_eq!(text("<p>a<a href=u>b<a href=v>c"), "ab (u)c (v)");
}

#[test]
fn entities() {
    let html = "&amp &lt; &unknown; &#0; &#xD800; &#x110000; &#99999999999; &#65;&#x42;&#X43 \
                &#; &#x; &copy;&Eacute;&eacute;&hellip;&#150;&#146;&#159; a&ampb &AMP; &amp";
    assert_eq!(
        text(html),
        "& < &unknown; \u{FFFD} \u{FFFD} \u{FFFD} \u{FFFD} ABC &#; &#x; ©Éé…–’Ÿ a&ampb &AMP; &"
    );
    assert_eq!(
        text("a&nbsp;&nbsp; b&#32;&#32;c&ensp;d"),
        "a\u{a0}\u{a0} b c\u{2002}d"
    );
    // In an attribute, `&lt` without `;` is part of the URL's query.
    assert_eq!(
        text("<a href='?a=1&lt=2&amp;b=&#x33;'>q</a>"),
        "q (?a=1&lt=2&b=3)"
    );
}

#[test]
fn whitespace_pre_and_crlf() {
    assert_eq!(text("  a \n\t b  <b> c </b>\r\n d  "), "a b c d");
    assert_eq!(
        text("<p>line one\r\nstill one</p>\r\n\r\n<p>two</p>"),
        "line one still one\n\ntwo"
    );
    let html = "<p>x</p><pre>\n  line 1\r\n    line 2 &lt;b&gt;\n\tend\n</pre><p>y</p>";
    assert_eq!(text(html), "x\n\n  line 1\n    line 2 <b>\n\tend\n\ny");
    assert_eq!(
        text("a<br/>b<br />c<BR>d</br>e<br><br><br><br>f"),
        "a\nb\nc\nd\ne\n\nf"
    );
}

#[test]
fn lists() {
    let nested = "<ul><li>a<ul><li>b</li><li>c</li></ul></li><li>d</li></ul>";
    assert_eq!(text(nested), "- a\n  - b\n  - c\n- d");
    let ordered = "Steps:<ol start=\"9\"><li>c<li value=20>d<ol><li>x<br>y</ol></ol>after";
    assert_eq!(
        text(ordered),
        "Steps:\n9. c\n20. d\n    1. x\n       y\nafter"
    );
    let loose = "<p>Intro</p><ul><li><p>a</p></li><li><p>b</p><p>more</p></li></ul><p>end</p>";
    assert_eq!(text(loose), "Intro\n- a\n- b\n\n  more\n\nend");
    assert_eq!(
        text("<ul><li></li><li>x</li></ul><dl><dt>T<dd>D</dl>"),
        "- x\n\nT\nD"
    );
}

#[test]
fn quotes_and_tables() {
    let html = "<blockquote><p>one</p><p>two</p><blockquote>deep</blockquote></blockquote>";
    assert_eq!(text(html), "> one\n\n> two\n\n> > deep");
    let table = "<table><tr><th>A</th> <th>B</th></tr><tr><td><b>1</b></td><td></td>\
                 <td>3</td></tr></table>";
    assert_eq!(text(table), "A  B\n1  3");
}

#[test]
fn links() {
    let html = "<a href=\"mailto:help@example.com\">Help desk</a>, \
                <a href=\"MAILTO:a@b.c\">a@b.c</a>, <a href='#top'>Top</a>, <a href=''>none</a>, \
                <a name=x>anchor</a>, <a href=\" https://e.x/\nlong \"> https://e.x/long</a>, \
                <a href=https://e.x/img><img src=i.png></a>";
    assert_eq!(
        text(html),
        "Help desk (help@example.com), a@b.c, Top, none, anchor, https://e.x/long, https://e.x/img"
    );
}

#[test]
fn markup_that_is_not_text() {
    let html = "<!DOCTYPE html><?xml version=\"1.0\"?>a<!-- <p>not</p> -->b<!---->c<!-->d\
                <![CDATA[x]]>e<a title='1 > 0' href=\"u\" data-x=y>f</a><img alt=logo/>";
    assert_eq!(text(html), "abcdef (u)logo/");
    let upper = "<P>One</P><UL><LI>Two</UL><A HREF=\"https://a.b\">c</A><Br>d";
    assert_eq!(text(upper), "One\n- Two\nc (https://a.b)\nd");
    let scripts = "a<script>if (x) document.write('</p><b>')</script>b<style>p{}</style>c\
                   <SCRIPT type=x>y</script >d<template><p>t</p></template>e<script>";
    assert_eq!(text(scripts), "abcde");
    assert_eq!(
        text("a < b, 1<2, x <= y, <3 and <> or </ 9> x <"),
        "a < b, 1<2, x <= y, <3 and <> or x <"
    );
    assert_eq!(
        text("<head><title>T</title><meta charset=utf-8><p>Body"),
        "Body"
    );
    assert_eq!(text("a<b c='unended>d"), "a");
}

/// Output the rest of the project can rely on: trimmed lines, one blank line at most.
fn assert_tidy(html: &str) {
    let t = to_text_within(html, usize::MAX).unwrap_or_else(|e| panic!("{html:?}: {e}"));
    assert!(
        !t.contains("\n\n\n") && !t.starts_with('\n') && !t.ends_with('\n'),
        "{html:?}"
    );
    assert!(t.lines().all(|l| l == l.trim_end()), "{html:?} gave {t:?}");
}

#[test]
fn any_input_reads() {
    const PIECES: &[&str] = &[
        "<",
        "</",
        ">",
        "/>",
        "<a href=",
        "<a href='#'>",
        "</a>",
        "&",
        "&#",
        "&#x",
        "&#x1F600;",
        "&amp",
        ";",
        "é",
        "😀",
        "\"",
        "'",
        "<!--",
        "-->",
        "<!",
        "<?",
        "<script>",
        "</script",
        "<pre>",
        "</pre>",
        "<li>",
        "</li>",
        "<ol start=9>",
        "<ul>",
        "</ul>",
        "<blockquote>",
        "<br/>",
        "<td>",
        "<tr>",
        "<head>",
        "<body>",
        "<img alt=",
        " ",
        "\r\n",
        "\t",
        "x",
        "=",
        "<p",
        "<P>",
        "</p>",
        "<template>",
        "&nbsp;",
        "&#99999999999;",
        "\u{a0}",
        "<style>",
    ];
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    };
    for _ in 0..5000 {
        let len = next() % 40;
        let html: String = (0..len).map(|_| PIECES[next() % PIECES.len()]).collect();
        assert_tidy(&html);
    }
    // Cut anywhere, inside a tag, a quote, an entity or a comment.
    let doc = "<p class=\"x\">é&eacute; <a href='u'>😀</a><!-- c --><pre> p\n</pre><ol><li>i";
    for cut in (0..=doc.len()).filter(|&i| doc.is_char_boundary(i)) {
        assert_tidy(&doc[..cut]);
    }
}

#[test]
fn large_and_hostile_input_returns() {
    let para = "<p>Hello <b>world</b> &amp; <a href='https://e.x'>link</a><br>line</p><ul><li>i";
    let big = para.repeat(200_000 / para.len());
    assert!(text(&big).lines().count() > 5000);
    let hostile = [
        "<a href=x>".repeat(20_000),
        "<ol><li>".repeat(20_000),
        "<blockquote>x".repeat(20_000),
        "<b>".repeat(20_000) + &"</i>".repeat(20_000),
        "<!".repeat(50_000),
        "<a b='".repeat(20_000),
        "</".repeat(50_000),
        "<script>".repeat(20_000),
        "&#x".repeat(50_000),
        "<!-->".repeat(50_000),
        "<title>".repeat(50_000),
    ];
    for html in hostile {
        assert_tidy(&html);
    }
}

/// The body an adversarial probe sent: quotes and a list number that widen every line, and
/// more than a million items.
fn probe() -> String {
    let mut html = "<blockquote>".repeat(20);
    html.push_str("<ol start=-9223372036854775808>");
    html.push_str(&"<li>x".repeat(1_250_000));
    html
}

#[test]
fn conversion_stops_at_the_limit_and_its_buffers_stay_bounded() {
    const LIMIT: usize = 64 * 1024;
    let html = probe();
    assert!(html.len() > 6_000_000);
    let err = to_text_within(&html, LIMIT).unwrap_err();
    assert!(err.contains("65536 bytes"), "{err}");
    // Nesting and names a hundred times past what is kept show that nothing grows with them.
    let hostile = [
        html,
        "<b>".repeat(100 * MAX_DEPTH),
        "<b><i><ul><blockquote>".repeat(25 * MAX_DEPTH),
        (0..100 * MAX_DEPTH)
            .map(|i| format!("<x{i}></x{i}>"))
            .collect(),
        format!("<pre>x{}</pre>", " ".repeat(6_000_000)),
        format!("<p>{}</p>", "word ".repeat(1_200_000)),
        format!("<a href='{}'>x</a>", "y".repeat(6_000_000)),
        format!("<img alt='{}'>", "&amp;".repeat(1_200_000)),
    ];
    for html in hostile {
        let c = convert(&html, LIMIT);
        // Every buffer the converter keeps: the text, the open elements, their names, the lists,
        // the line prefix.
        let sizes = [
            c.out.capacity(),
            c.open.capacity() * 100,
            c.counts.capacity() * 100,
            c.lists.capacity() * 100,
            c.prefix.capacity(),
        ];
        assert!(
            sizes.iter().all(|&n| n <= 2 * LIMIT),
            "{}: {sizes:?}",
            &html[..40]
        );
        match c.finish() {
            Some(text) => assert!(text.len() <= LIMIT, "{}", &html[..40]),
            None => assert!(to_text_within(&html, LIMIT).is_err()),
        }
    }
}

#[test]
fn text_at_the_limit_reads_and_a_byte_more_does_not() {
    let limit = 1000;
    let fits = format!("<p>{}</p>", "x".repeat(limit));
    assert_eq!(to_text_within(&fits, limit).unwrap().len(), limit);
    assert!(to_text_within(&format!("{fits}y"), limit).is_err());
    // What is trimmed away or folded does not count: trailing whitespace, blank lines.
    let blank = format!(
        "<pre>a{}\n\n\n{}</pre>b",
        " ".repeat(5000),
        "\n ".repeat(5000)
    );
    assert_eq!(to_text_within(&blank, 10).unwrap(), "a\n\nb");
    // Whitespace within a line does, once text follows it.
    let spaced = format!("<pre>a{}b</pre>", " ".repeat(5000));
    assert!(to_text_within(&spaced, 1000).is_err());
    // A link too long to show makes the text too long; an anchor is not shown.
    let link = format!("<a href='https://e.x/{}'>x</a>", "y".repeat(2000));
    assert!(to_text_within(&link, 1000).is_err());
    let anchor = format!("<a href='#{}'>x</a>", "y".repeat(2000));
    assert_eq!(to_text_within(&anchor, 1000).unwrap(), "x");
}

#[test]
fn an_ordered_list_counts_as_a_browser_does() {
    // A start a browser cannot hold counts from 1; counting stops at the largest it can.
    let html = "<ol start=-9223372036854775808><li>a<li>b</ol>\
                <ol start=2147483646><li>c<li>d<li>e</ol><ol><li value=-5>f<li>g</ol>";
    assert_eq!(
        text(html),
        "1. a\n2. b\n2147483646. c\n2147483647. d\n2147483647. e\n-5. f\n-4. g"
    );
}

#[test]
fn elements_nested_past_the_depth_limit_still_read() {
    let deep = format!(
        "{}<p>a</p><ul><li>b<li>c</ul><blockquote>q</blockquote><a href=u>l</a>{}",
        "<div>".repeat(MAX_DEPTH),
        "</div>".repeat(MAX_DEPTH)
    );
    // Paragraphs and items still part lines; the quote, list and link are not kept open.
    assert_eq!(text(&deep), "a\n- b\n- c\n\nql");
    let items = format!("<ul>{}</ul>", "<li>x".repeat(3 * MAX_DEPTH));
    assert_eq!(text(&items).lines().count(), 3 * MAX_DEPTH);
    assert!(
        text(&items).lines().all(|l| l.trim_start() == "- x"),
        "{items}"
    );
}
