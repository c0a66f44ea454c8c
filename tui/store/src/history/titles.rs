//! Movie titles as people write them and as MovieLens writes them.
//! MovieLens puts articles last and alternative titles in parentheses:
//! `City of Lost Children, The (Cité des enfants perdus, La)`,
//! `Seven (a.k.a. Se7en)`. A title's *forms* are its main title and each
//! alternative, articles moved to the front; its *key* is a form folded to
//! lowercase ASCII words, so `The City of Lost Children` from Letterboxd
//! and the MovieLens title meet on the same key.

/// Articles MovieLens moves to the end of a title (`Godfather, The`).
const ARTICLES: [&str; 15] =
    ["The", "A", "An", "Les", "La", "Le", "L'", "Il", "Das", "Der", "Die", "El", "Los", "Las", "Lo"];

/// `Godfather, The` → `The Godfather`; `Enfants du paradis, Les` → `Les
/// Enfants du paradis`; `Homme, L'` → `L'Homme`. Anything else is kept.
pub fn article_first(title: &str) -> String {
    let title = title.trim();
    if let Some((head, tail)) = title.rsplit_once(", ")
        && let Some(article) = ARTICLES.iter().find(|a| tail.eq_ignore_ascii_case(a))
    {
        let sep = if article.ends_with('\'') { "" } else { " " };
        return format!("{article}{sep}{head}");
    }
    title.to_owned()
}

/// The main title and every alternative in trailing parentheses, each with
/// its article first: `Seven (a.k.a. Se7en)` → `["Seven", "Se7en"]`.
pub fn forms(title: &str) -> Vec<String> {
    let mut rest = title.trim();
    let mut alternatives = Vec::new();
    // Peel `(…)` groups off the end, innermost nesting respected.
    while rest.ends_with(')') {
        let mut depth = 0;
        let mut open = None;
        for (i, c) in rest.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' => {
                    depth -= 1;
                    if depth == 0 {
                        open = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(open) = open.filter(|&i| i > 0) else { break };
        let inner = rest[open + 1..rest.len() - 1].trim();
        let inner = inner.strip_prefix("a.k.a. ").or_else(|| inner.strip_prefix("aka ")).unwrap_or(inner);
        alternatives.push(inner.to_owned());
        rest = rest[..open].trim_end();
    }
    let mut forms = vec![article_first(rest)];
    forms.extend(alternatives.iter().rev().map(|a| article_first(a)));
    forms.retain(|f| !f.is_empty());
    forms.dedup();
    forms
}

/// How a person writes a MovieLens title: its main form, article first.
pub fn display(title: &str) -> String {
    forms(title).into_iter().next().unwrap_or_else(|| title.to_owned())
}

/// A form folded for matching: accents dropped, lowercase, `&` as `and`,
/// punctuation gone, words single-spaced.
pub fn key(form: &str) -> String {
    let ascii = deunicode::deunicode(form).to_lowercase().replace('&', " and ");
    let mut key = String::with_capacity(ascii.len());
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric() && c != '\'').filter(|w| !w.is_empty()) {
        let word: String = word.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        if word.is_empty() {
            continue;
        }
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(&word);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_come_first_and_alternatives_are_forms_too() {
        assert_eq!(display("Godfather, The"), "The Godfather");
        assert_eq!(display("Shawshank Redemption, The"), "The Shawshank Redemption");
        assert_eq!(
            forms("City of Lost Children, The (Cité des enfants perdus, La)"),
            ["The City of Lost Children", "La Cité des enfants perdus"]
        );
        assert_eq!(forms("Seven (a.k.a. Se7en)"), ["Seven", "Se7en"]);
        assert_eq!(
            forms("Shanghai Triad (Yao a yao yao dao waipo qiao)"),
            ["Shanghai Triad", "Yao a yao yao dao waipo qiao"]
        );
        assert_eq!(display("Homme qui aimait les femmes, L'"), "L'Homme qui aimait les femmes");
        assert_eq!(display("(500) Days of Summer"), "(500) Days of Summer");
        assert_eq!(display("Mr. & Mrs. Smith"), "Mr. & Mrs. Smith");
    }

    #[test]
    fn keys_fold_case_accents_and_punctuation() {
        assert_eq!(key("The City of Lost Children"), key("the city of lost children!"));
        assert_eq!(key("La Cité des enfants perdus"), "la cite des enfants perdus");
        assert_eq!(key("Mr. & Mrs. Smith"), "mr and mrs smith");
        assert_eq!(key("WALL·E"), key("WALL-E"));
        assert_eq!(key("Schindler's List"), "schindlers list");
        assert_eq!(key("Amélie"), "amelie");
    }
}
