//! Cuts a description into clauses (sentences, and bullet lists joined to their heading) and
//! clauses into tokens.

/// A word or a punctuation mark that matters to the grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A word as written, and in lowercase.
    Word {
        text: String,
        lower: String,
    },
    Comma,
    Colon,
    Open,
    Close,
}

impl Token {
    /// The lowercase word, or `""` for punctuation.
    pub fn lower(&self) -> &str {
        match self {
            Token::Word { lower, .. } => lower,
            _ => "",
        }
    }

    /// The word as written, or `""` for punctuation.
    pub fn text(&self) -> &str {
        match self {
            Token::Word { text, .. } => text,
            _ => "",
        }
    }
}

/// Heading endings after which bullets are fields, not sentences.
const LIST_HEADS: &[&str] = &[
    "have",
    "has",
    "fields",
    "with",
    "contain",
    "contains",
    "include",
    "includes",
    "attributes",
    "properties",
    "following",
    "columns",
    "store",
    "stores",
    "record",
    "records",
];

/// Abbreviations whose full stop does not end a sentence.
const ABBREVIATIONS: &[&str] =
    &["e.g", "i.e", "etc", "vs", "approx", "incl", "no", "nr", "eg", "ie"];

/// The description's clauses in order: each sentence of running text, and each bullet list
/// under a heading that ends with `:` joined to it as `heading: item, item, …`.
pub fn clauses(text: &str) -> Vec<String> {
    let mut clauses = Vec::new();
    let mut heading: Option<(usize, String, Vec<String>)> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let bullet = strip_bullet(trimmed);
        match (&mut heading, bullet) {
            (Some((heading_indent, _, items)), Some(item))
                if indent > *heading_indent
                    || items.is_empty()
                    || indent == 0 && *heading_indent == 0 =>
            {
                if item.ends_with(':') {
                    // A nested heading: the list so far ends, a new one starts.
                    flush_heading(&mut heading, &mut clauses);
                    heading = Some((indent, item.trim_end_matches(':').to_owned(), Vec::new()));
                } else {
                    items.push(item.trim_end_matches(['.', ',', ';']).to_owned());
                }
            }
            _ => {
                flush_heading(&mut heading, &mut clauses);
                let line = bullet.unwrap_or(trimmed);
                if let Some(head) = line.strip_suffix(':') {
                    heading = Some((indent, head.to_owned(), Vec::new()));
                } else {
                    clauses.extend(sentences(line));
                }
            }
        }
    }
    flush_heading(&mut heading, &mut clauses);
    clauses
}

fn flush_heading(heading: &mut Option<(usize, String, Vec<String>)>, clauses: &mut Vec<String>) {
    let Some((_, head, items)) = heading.take() else {
        return;
    };
    let head_lower = head.to_lowercase();
    let head_opens_a_list = LIST_HEADS.iter().any(|word| head_lower.ends_with(word));
    let items_are_clauses =
        !head_opens_a_list && items.iter().any(|item| item.contains(':') || item.contains(". "));
    if items.is_empty() {
        clauses.extend(sentences(&head));
    } else if items_are_clauses {
        clauses.extend(sentences(&head));
        for item in items {
            clauses.extend(sentences(&item));
        }
    } else {
        // Sentences before the heading's last one stand alone.
        let mut parts = sentences(&head);
        let last = parts.pop().unwrap_or_default();
        clauses.extend(parts);
        // `a difficulty: easy, medium or hard` inside a list is an enum.
        let items: Vec<String> = items
            .iter()
            .map(|item| match item.split_once(':') {
                Some((name, values)) => format!("{name} (one of {})", values.trim()),
                None => item.clone(),
            })
            .collect();
        clauses.push(format!("{last}: {}", items.join(", ")));
    }
}

fn strip_bullet(line: &str) -> Option<&str> {
    for marker in ["- ", "* ", "• ", "+ ", "– "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 4 {
        let rest = &line[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(rest.trim());
        }
    }
    None
}

/// Splits running text at `.`, `!`, `?` and `;` followed by a space or the end.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (index, character) in text.char_indices() {
        if !matches!(character, '.' | '!' | '?' | ';') {
            continue;
        }
        let next = bytes.get(index + 1).copied();
        if !next.is_none_or(|byte| byte.is_ascii_whitespace()) {
            continue;
        }
        let before = &text[start..index];
        let last_word = before.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
        if character == '.' && ABBREVIATIONS.contains(&last_word.to_ascii_lowercase().as_str()) {
            continue;
        }
        push_sentence(&mut out, before);
        start = index + 1;
    }
    push_sentence(&mut out, &text[start..]);
    out
}

fn push_sentence(out: &mut Vec<String>, sentence: &str) {
    let sentence = sentence.trim();
    if sentence.chars().any(char::is_alphanumeric) {
        out.push(sentence.to_owned());
    }
}

/// The clause's words and the punctuation the grammar uses; `&` reads as `and`, a
/// possessive `'s` is dropped, other characters separate words.
pub fn tokens(clause: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<Token>| {
        let trimmed = word.trim_matches(|c: char| c == '\'' || c == '-' || c == '.');
        let trimmed = trimmed.strip_suffix("'s").unwrap_or(trimmed);
        if !trimmed.is_empty() {
            let lower = match trimmed.to_lowercase().as_str() {
                "e-mail" | "e-mails" => "email".to_owned(),
                other => other.to_owned(),
            };
            tokens.push(Token::Word { text: trimmed.to_owned(), lower });
        }
        word.clear();
    };
    for character in clause.chars() {
        let joins_word = character.is_alphanumeric()
            || matches!(character, '_' | '\'' | '’' | '-' | '.' | '/' | '€' | '$' | '£');
        if joins_word {
            word.push(if character == '’' { '\'' } else { character });
            continue;
        }
        flush(&mut word, &mut tokens);
        match character {
            ',' => tokens.push(Token::Comma),
            ':' => tokens.push(Token::Colon),
            '(' | '[' => tokens.push(Token::Open),
            ')' | ']' => tokens.push(Token::Close),
            '&' => tokens.push(Token::Word { text: "and".into(), lower: "and".into() }),
            _ => {}
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_and_bullets_become_clauses() {
        let text = "A library. Books have a title, e.g. Dune; members borrow books!\n\
                    Members have:\n- a name\n- an email.\n\
                    Entities:\n- Book: title, author\n- Loan: due date\n\
                    Price is 1.5 or more";
        assert_eq!(
            clauses(text),
            [
                "A library",
                "Books have a title, e.g. Dune",
                "members borrow books",
                "Members have: a name, an email",
                "Entities",
                "Book: title, author",
                "Loan: due date",
                "Price is 1.5 or more",
            ]
        );
    }

    #[test]
    fn nested_bullets_become_one_clause_per_heading() {
        let text =
            "Track recipes:\n- Recipe:\n  - a title\n  - servings\n- Ingredient:\n  - a name";
        assert_eq!(
            clauses(text),
            vec!["Track recipes", "Recipe: a title, servings", "Ingredient: a name"]
        );
    }

    #[test]
    fn tokens_keep_text_and_punctuation() {
        let words: Vec<String> = tokens("A member's e-mail (one of EUR, USD) & notes")
            .iter()
            .map(|token| match token {
                Token::Word { text, .. } => text.clone(),
                Token::Comma => ",".into(),
                Token::Colon => ":".into(),
                Token::Open => "(".into(),
                Token::Close => ")".into(),
            })
            .collect();
        assert_eq!(
            words,
            ["A", "member", "e-mail", "(", "one", "of", "EUR", ",", "USD", ")", "and", "notes"]
        );
    }
}
