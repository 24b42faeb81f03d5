//! Language selection. Norwegian (bokmål) is the default for every text a person reads;
//! English is given only when the caller asks for it with `Accept-Language`.

use std::borrow::Cow;

use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Nb,
    En,
}

impl Lang {
    /// Picks the preferred language among the ones we have from an `Accept-Language` value.
    /// Ranges we do not speak are skipped; anything unreadable falls back to Norwegian.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::Nb;
        };
        let mut best: Option<(f32, usize, Lang)> = None;
        for (position, range) in header.split(',').enumerate() {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "en" => Lang::En,
                "nb" | "no" | "nn" => Lang::Nb,
                _ => continue,
            };
            if quality <= 0.0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((q, p, _)) => quality > q || (quality == q && position < p),
            };
            if better {
                best = Some((quality, position, lang));
            }
        }
        best.map(|(_, _, lang)| lang).unwrap_or_default()
    }

    pub fn pick<'a>(self, nb: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Nb => nb,
            Lang::En => en,
        }
    }
}

/// A text a person reads, in both languages we speak. Most are fixed (`const`, borrowed from
/// the binary); some are built at run time because they name a field, a limit or a time.
/// Serialized as `{"nb": ..., "en": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Text {
    pub nb: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Text {
    /// A fixed text, usable in `const` and `static` items.
    pub const fn new(nb: &'static str, en: &'static str) -> Self {
        Text {
            nb: Cow::Borrowed(nb),
            en: Cow::Borrowed(en),
        }
    }

    /// A text built at run time.
    pub fn owned(nb: impl Into<String>, en: impl Into<String>) -> Self {
        Text {
            nb: Cow::Owned(nb.into()),
            en: Cow::Owned(en.into()),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.nb, &self.en)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norwegian_is_the_default() {
        assert_eq!(Lang::from_accept_language(None), Lang::Nb);
        assert_eq!(Lang::from_accept_language(Some("")), Lang::Nb);
        assert_eq!(Lang::from_accept_language(Some("de-DE, fr")), Lang::Nb);
    }

    #[test]
    fn english_on_request() {
        assert_eq!(Lang::from_accept_language(Some("en")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("en-GB,en;q=0.9")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("de, en;q=0.5")), Lang::En);
    }

    #[test]
    fn quality_decides_between_norwegian_and_english() {
        assert_eq!(
            Lang::from_accept_language(Some("nb-NO, en;q=0.8")),
            Lang::Nb
        );
        assert_eq!(
            Lang::from_accept_language(Some("nb;q=0.3, en;q=0.8")),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language(Some("en;q=0")), Lang::Nb);
    }
}
