//! Character references: `&amp;`, `&#233;`, `&#x1F600;` and the names people write.

/// A piece of decoded text: a run of the source as written, or what one reference stands for.
pub(super) enum Piece<'a> {
    Run(&'a str),
    Char(char),
}

/// Hands `f` the text of `s` with its character references replaced, piece by piece, so that
/// text of any length is read without a copy of it, until `f` says to stop (`false`). Outside
/// attributes the common references read without their `;` too, as browsers read them; inside,
/// `&lt=2` in a URL's query is left alone.
pub(super) fn decode_each<'a>(s: &'a str, in_attr: bool, mut f: impl FnMut(Piece<'a>) -> bool) {
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        if amp > 0 && !f(Piece::Run(&rest[..amp])) {
            return;
        }
        rest = &rest[amp + 1..];
        let go_on = match reference(rest, in_attr) {
            Some((c, len)) => {
                rest = rest.get(len..).unwrap_or_default();
                f(Piece::Char(c))
            }
            None => f(Piece::Run("&")),
        };
        if !go_on {
            return;
        }
    }
    if !rest.is_empty() {
        f(Piece::Run(rest));
    }
}

/// The character that `&` followed by `s` stands for, and how many bytes of `s` it takes.
fn reference(s: &str, in_attr: bool) -> Option<(char, usize)> {
    if let Some(num) = s.strip_prefix('#') {
        let (radix, digits) = num.strip_prefix(['x', 'X']).map_or((10, num), |d| (16, d));
        let n = digits
            .bytes()
            .take_while(|c| (*c as char).is_digit(radix))
            .count();
        let value = digits
            .get(..n)
            .filter(|d| !d.is_empty())?
            .chars()
            .fold(0u32, |v, c| {
                v.saturating_mul(radix)
                    .saturating_add(c.to_digit(radix).unwrap_or(0))
            });
        let semicolon = digits[n..].starts_with(';');
        return Some((
            numeric(value),
            s.len() - digits.len() + n + usize::from(semicolon),
        ));
    }
    let n = s.bytes().take_while(u8::is_ascii_alphanumeric).count();
    let name = &s[..n];
    if s[n..].starts_with(';') {
        return named(name).map(|c| (c, n + 1));
    }
    let legacy = !in_attr && ["amp", "lt", "gt", "quot", "nbsp"].contains(&name);
    legacy.then(|| named(name).map(|c| (c, n))).flatten()
}

/// 0x80–0x9F are read as Windows-1252, as browsers do: Word writes `&#146;` for `’`.
fn numeric(value: u32) -> char {
    const CP1252: &str = "€\u{81}‚ƒ„…†‡ˆ‰Š‹Œ\u{8d}Ž\u{8f}\u{90}‘’“”•–—˜™š›œ\u{9d}žŸ";
    match value {
        0 => '\u{FFFD}',
        0x80..=0x9F => CP1252
            .chars()
            .nth(value as usize - 0x80)
            .unwrap_or('\u{FFFD}'),
        _ => char::from_u32(value).unwrap_or('\u{FFFD}'),
    }
}

fn named(name: &str) -> Option<char> {
    /// U+00A0 to U+00FF, in order.
    const LATIN1: &str = "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy \
        reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 \
        frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml \
        Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave \
        Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil \
        egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde \
        ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml";
    const OTHER: &str = "amp=& lt=< gt=> quot=\" apos=' trade=™ hellip=… mdash=— ndash=– \
        lsquo=‘ rsquo=’ sbquo=‚ ldquo=“ rdquo=” bdquo=„ bull=• euro=€ dagger=† Dagger=‡ permil=‰ \
        lsaquo=‹ rsaquo=› OElig=Œ oelig=œ Scaron=Š scaron=š Yuml=Ÿ fnof=ƒ circ=ˆ tilde=˜ minus=− \
        larr=← rarr=→ uarr=↑ darr=↓ ensp=\u{2002} emsp=\u{2003} thinsp=\u{2009} zwnj=\u{200C} \
        zwj=\u{200D}";
    match LATIN1.split_ascii_whitespace().position(|n| n == name) {
        Some(i) => char::from_u32(0xA0 + i as u32),
        None => OTHER
            .split(' ')
            .find_map(|e| e.strip_prefix(name)?.strip_prefix('=')?.chars().next()),
    }
}
