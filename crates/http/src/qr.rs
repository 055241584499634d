//! QR codes as inline SVG, drawn by this binary (no outside service ever sees the secret).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// `text` as an SVG QR code (error correction M), ready to embed in a page: no XML
/// declaration, labelled for screen readers with `label`. `None` when the text is too long for
/// a QR code (never for an `otpauth` URI).
pub(crate) fn svg(text: &str, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    let start = image.find("<svg")?;
    let label = label
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    Some(image[start..].replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{label}\""),
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_otpauth_uri_becomes_an_inline_svg() {
        let uri = "otpauth://totp/Minna%20Kikeru:hanako%40example.jp?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Minna%20Kikeru&algorithm=SHA1&digits=6&period=30";
        let image = svg(uri, "QR \"code\"").expect("fits");
        assert!(image.starts_with("<svg role=\"img\" aria-label=\"QR &quot;code&quot;\""));
        assert!(image.trim_end().ends_with("</svg>"));
        assert!(!image.contains("<?xml"));
        assert!(
            !image.contains("secret"),
            "the secret is drawn, not written"
        );
        assert!(svg(&"x".repeat(5000), "too long").is_none());
    }
}
