//! Small text helpers shared by the views: ratings, dates, sizes, truncation.

use cinema_store::dataset::{Dataset, Movie, RatingScale};

/// A rating as the dataset's scale writes it: `4` on whole stars, `4.5` on half stars.
pub fn stars(value: f32, scale: RatingScale) -> String {
    if scale.step >= 1.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

/// `The Godfather` for MovieLens's `Godfather, The`: titles as people write
/// them (see `cinema_store::history::titles`).
pub fn title(movie: &Movie) -> String {
    cinema_store::history::titles::display(&movie.title)
}

/// `Star Wars (1977)`; `The Godfather (1972)`.
pub fn title_year(movie: &Movie) -> String {
    let title = title(movie);
    match movie.year {
        Some(y) => format!("{title} ({y})"),
        None => title,
    }
}

/// `Action/Sci-Fi`.
pub fn genres(dataset: &Dataset, movie: &Movie) -> String {
    dataset.genre_names(movie).join("/")
}

/// Cuts `text` to `width` characters, ending in `…` when cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// `955 KB`, `1.2 MB`: sizes as people read them (decimal units, like download pages).
pub fn bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{} KB", n / 1_000),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

/// `583`, `81346`, then `104k`, `1.2M`: a count in at most
/// five columns (the Votes column; MovieLens 25M's most rated movie has 81,491).
pub fn count(n: u32) -> String {
    match n {
        0..100_000 => n.to_string(),
        100_000..1_000_000 => format!("{}k", n / 1_000),
        _ => format!("{:.1}M", f64::from(n) / 1e6),
    }
}

/// `2024-05-17` (UTC) from seconds since the Unix epoch.
pub fn date(timestamp: i64) -> String {
    let (y, m, d) = civil_from_days(timestamp.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-11-30 15:04` (UTC).
pub fn date_time(timestamp: i64) -> String {
    let minutes = timestamp.rem_euclid(86_400) / 60;
    format!("{} {:02}:{:02}", date(timestamp), minutes / 60, minutes % 60)
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_fitting() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(881_250_949), "1997-12-04");
        assert_eq!(date(1_709_251_200), "2024-03-01");
        assert_eq!(fit("Star Wars", 20), "Star Wars");
        assert_eq!(fit("Star Wars", 5), "Star…");
        assert_eq!(stars(4.0, RatingScale::WHOLE_STARS), "4");
        assert_eq!(stars(4.5, RatingScale::HALF_STARS), "4.5");
        assert_eq!((bytes(999), bytes(978_202), bytes(1_234_567)), ("999 B".into(), "978 KB".into(), "1.2 MB".into()));
        let counts = [583, 99_999, 104_343, 1_234_567].map(count);
        assert_eq!(counts, ["583", "99999", "104k", "1.2M"].map(String::from));
    }
}
