//! Packed rules documents: `gz:` and the base64 of the gzipped JSON, so that a long document fits
//! in Lambda's 4 KB of environment variables. Problems are still reported against the unpacked
//! document, whose places (`rules[3].when`) are the ones its author sees.

use std::borrow::Cow;
use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// What marks a packed document.
pub const PACKED_PREFIX: &str = "gz:";

/// Unpacked documents larger than this are refused: no sensible document comes near it, and a
/// few bytes of gzip can otherwise unpack into gigabytes.
pub const MAX_UNPACKED_BYTES: usize = 1024 * 1024;

/// The document `text` holds: itself, or, for `gz:…`, what it unpacks to.
pub fn unpack(text: &str) -> Result<Cow<'_, str>, String> {
    let Some(packed) = text.trim().strip_prefix(PACKED_PREFIX) else {
        return Ok(Cow::Borrowed(text));
    };
    let cleaned: String = packed.chars().filter(|c| !c.is_whitespace()).collect();
    let gzipped = STANDARD.decode(cleaned.as_bytes()).map_err(|e| {
        format!(
            "the packed document (`gz:` …) is not valid base64 ({e}): paste the whole line \
             `button-rules check --pack` printed"
        )
    })?;
    let mut unpacked = Vec::new();
    GzDecoder::new(gzipped.as_slice())
        .take(MAX_UNPACKED_BYTES as u64 + 1)
        .read_to_end(&mut unpacked)
        .map_err(|e| {
            format!(
                "the packed document (`gz:` …) does not unpack ({e}): make it again with \
                 `button-rules check --pack`"
            )
        })?;
    if unpacked.len() > MAX_UNPACKED_BYTES {
        return Err(format!(
            "the packed document (`gz:` …) unpacks to more than {MAX_UNPACKED_BYTES} bytes: a \
             rules document is far smaller"
        ));
    }
    String::from_utf8(unpacked).map(Cow::Owned).map_err(|_| {
        "the packed document (`gz:` …) unpacks to something that is not UTF-8 text: make it \
         again with `button-rules check --pack`"
            .to_string()
    })
}

/// `json` (a document, already minified by the caller if wanted) packed: `gz:` + base64.
pub fn pack(json: &str) -> String {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(json.as_bytes());
    let gzipped = encoder.finish().unwrap_or_default();
    format!("{PACKED_PREFIX}{}", STANDARD.encode(gzipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_document_unpacks_to_itself() {
        let doc = r#"{"rules":[{"when":"priority == 'High'","set":{"queue":"Escalations"}}]}"#;
        let packed = pack(doc);
        assert!(packed.starts_with("gz:"), "{packed}");
        assert_eq!(unpack(&packed).unwrap(), doc);
        assert_eq!(unpack(&format!(" {packed}\n")).unwrap(), doc);
        assert!(matches!(unpack(doc), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn broken_packings_say_what_to_do() {
        let e = unpack("gz:%%%").unwrap_err();
        assert!(
            e.contains("not valid base64") && e.contains("--pack"),
            "{e}"
        );
        let e = unpack("gz:aGVsbG8=").unwrap_err();
        assert!(e.contains("does not unpack"), "{e}");
    }

    #[test]
    fn a_gzip_bomb_is_refused() {
        let bomb = pack(&" ".repeat(MAX_UNPACKED_BYTES + 10));
        assert!(bomb.len() < 4096, "{}", bomb.len());
        let e = unpack(&bomb).unwrap_err();
        assert!(e.contains("more than"), "{e}");
    }
}
