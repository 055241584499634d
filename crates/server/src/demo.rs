//! The demo catalogue of the embedded default, and its audio: short pieces synthesised into
//! WAV files (16-bit mono PCM), so the sandbox has real audio to sell, sample and stream.

use std::f32::consts::TAU;
use std::path::Path;

/// The demo catalogue, in the format `kikeru catalog import` reads.
pub const CATALOG: &str = include_str!("../demo/catalog.toml");

const RATE: u32 = 22_050;

/// Each piece: its file stem and its notes (frequency in Hz, length in beats).
const PIECES: [(&str, &[(f32, f32)]); 4] = [
    (
        "demo-001",
        &[
            (523.25, 1.0),
            (659.25, 1.0),
            (783.99, 2.0),
            (659.25, 1.0),
            (523.25, 3.0),
        ],
    ),
    (
        "demo-002",
        &[
            (392.0, 1.5),
            (440.0, 0.5),
            (493.88, 1.0),
            (587.33, 2.0),
            (493.88, 1.0),
            (440.0, 2.0),
        ],
    ),
    (
        "demo-003",
        &[
            (261.63, 2.0),
            (329.63, 2.0),
            (392.0, 2.0),
            (349.23, 2.0),
            (293.66, 2.0),
        ],
    ),
    (
        "demo-004",
        &[(196.0, 3.0), (220.0, 3.0), (174.61, 3.0), (196.0, 3.0)],
    ),
];

/// Writes every demo file that is missing under `media_dir/demo/`: a 30-second piece and an
/// 8-second sample of each.
///
/// # Errors
/// When a file cannot be written.
pub fn write_audio(media_dir: &Path) -> std::io::Result<()> {
    let dir = media_dir.join("demo");
    std::fs::create_dir_all(&dir)?;
    for (stem, notes) in PIECES {
        for (name, seconds) in [
            (format!("{stem}.wav"), 30.0),
            (format!("{stem}-sample.wav"), 8.0),
        ] {
            let path = dir.join(name);
            if !path.exists() {
                let temporary = path.with_extension("wav.tmp");
                std::fs::write(&temporary, wav(&render(notes, seconds)))?;
                std::fs::rename(&temporary, &path)?;
            }
        }
    }
    Ok(())
}

/// Plays the notes in a loop for `seconds`, each with a soft attack and decay and a quiet
/// octave above.
fn render(notes: &[(f32, f32)], seconds: f32) -> Vec<i16> {
    let beat = 0.5;
    let total = (seconds * RATE as f32) as usize;
    let mut samples = Vec::with_capacity(total);
    let mut index = 0;
    while samples.len() < total {
        let (frequency, beats) = notes[index % notes.len()];
        let length = (beats * beat * RATE as f32) as usize;
        for n in 0..length.min(total - samples.len()) {
            let t = n as f32 / RATE as f32;
            let envelope = (t * 40.0).min(1.0) * (-2.5 * t / (beats * beat)).exp();
            let tone = (TAU * frequency * t).sin() + 0.3 * (TAU * 2.0 * frequency * t).sin();
            samples.push((tone * envelope * 0.3 * f32::from(i16::MAX)) as i16);
        }
        index += 1;
    }
    samples
}

fn wav(samples: &[i16]) -> Vec<u8> {
    let data = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for sample in samples {
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalogue_reads_with_the_audio_written_for_it() {
        let dir = tempfile::tempdir().unwrap();
        write_audio(dir.path()).unwrap();
        let drafts = crate::catalog::parse_toml(CATALOG, dir.path()).unwrap();
        assert_eq!(drafts.len(), 4);
        let bytes = std::fs::read(dir.path().join("demo/demo-001.wav")).unwrap();
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(bytes.len(), 44 + 30 * RATE as usize * 2);
        assert!(
            bytes[44..].iter().any(|b| *b != 0),
            "the audio is not silent"
        );
    }
}
