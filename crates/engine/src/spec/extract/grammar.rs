//! The clause grammar: each clause of a description read as statements ("books have …",
//! "each loan belongs to a member", "members can borrow books", "a library where …"), before
//! any decision about which nouns are entities.

use crate::spec::FieldType;
use crate::spec::sentences::Token;
use crate::spec::words;

/// What one clause says.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// The app's name, and what it keeps track of.
    Intro { name: Option<String>, tracked: Vec<Noun> },
    /// These nouns are things the app stores.
    Entities(Vec<Noun>),
    /// Each subject has these items (fields, or links to other entities).
    Fields { subjects: Vec<Noun>, items: Vec<Item> },
    /// Each subject belongs to each target.
    BelongsTo { subjects: Vec<Noun>, targets: Vec<Noun>, optional: bool },
    /// Each subject has many of each target.
    HasMany { subjects: Vec<Noun>, targets: Vec<Noun> },
    /// The two are linked many to many.
    ManyToMany(Noun, Noun),
    /// Someone (or something) does `verb` to an object.
    Action { actor: Option<Noun>, verb: String, object: Noun },
    /// A clause the grammar could not read.
    Unplaced(String),
}

/// A noun phrase in lowercase words, determiners removed (`loan`, `order items`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noun(pub Vec<String>);

impl Noun {
    /// The entity name this noun stands for: singular snake_case.
    pub fn entity_name(&self) -> String {
        words::singular(&words::identifier(&self.0.join(" ")))
    }

    /// Whether the phrase was written in the plural.
    pub fn is_plural(&self) -> bool {
        self.0.last().is_some_and(|last| words::is_plural(last))
    }
}

/// One entry of a field list: `an optional unique ISBN`, `a currency (one of EUR, USD or GBP)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Item {
    pub noun: Vec<String>,
    pub explicit_type: Option<FieldType>,
    pub optional: bool,
    pub unique: bool,
    /// Written as `a list of …`, `many …`.
    pub many: bool,
    /// A trailing `flag` or `checkbox` made it a boolean.
    pub flag: bool,
}

impl Item {
    pub fn as_noun(&self) -> Noun {
        Noun(self.noun.clone())
    }
}

const DETERMINERS: &[&str] = &[
    "a",
    "an",
    "the",
    "each",
    "every",
    "all",
    "any",
    "our",
    "their",
    "its",
    "his",
    "her",
    "some",
    "this",
    "that",
    "these",
    "those",
    "one",
    "also",
    "and",
    "then",
    "additionally",
    "finally",
    "plus",
    "both",
    "either",
    "my",
    "your",
    "certain",
    "various",
    "multiple",
    "several",
];

/// Words that say "the app" or "whoever uses it": never a thing the app stores.
pub const NOT_ENTITIES: &[&str] = &[
    "it",
    "app",
    "application",
    "system",
    "platform",
    "service",
    "api",
    "tool",
    "website",
    "site",
    "we",
    "you",
    "i",
    "they",
    "someone",
    "anyone",
    "everyone",
    "there",
    "backend",
    "database",
    "program",
    "software",
    "he",
    "she",
    "one",
];

/// People words: an entity when the description gives them fields or links, not merely for
/// acting (`users can complete todos`).
pub const PEOPLE: &[&str] = &["user", "users", "people", "person", "visitor", "visitors"];

/// Words that end an app's noun phrase at the start of a description.
const APP_SUFFIXES: &[&str] = &[
    "app",
    "application",
    "system",
    "platform",
    "service",
    "api",
    "tool",
    "website",
    "site",
    "backend",
    "program",
    "software",
    "database",
];
const APP_KEPT_SUFFIXES: &[&str] = &[
    "tracker",
    "manager",
    "crm",
    "portal",
    "dashboard",
    "catalog",
    "catalogue",
    "planner",
    "log",
    "journal",
];
const ADJECTIVES: &[&str] = &[
    "simple", "small", "basic", "tiny", "little", "new", "web", "rest", "restful", "crud",
    "minimal", "json", "personal", "online", "modern", "quick", "full", "complete",
];
const TRACK_VERBS: &[&str] = &[
    "track",
    "tracks",
    "tracking",
    "manage",
    "manages",
    "managing",
    "organize",
    "organizes",
    "organizing",
    "organise",
    "organises",
    "organising",
    "catalog",
    "catalogs",
    "cataloging",
    "catalogue",
    "log",
    "logs",
    "logging",
    "record",
    "records",
    "recording",
    "store",
    "stores",
    "storing",
    "list",
    "lists",
    "listing",
    "handle",
    "handles",
    "handling",
    "monitor",
    "monitors",
    "monitoring",
    "plan",
    "plans",
    "planning",
    "keep",
    "keeps",
    "keeping",
    "run",
    "runs",
    "running",
    "share",
    "sharing",
    "collect",
    "collecting",
    "book",
    "booking",
];
const REQUEST_WORDS: &[&str] = &[
    "build", "create", "make", "write", "generate", "develop", "design", "please", "i", "we",
    "want", "need", "would", "like", "to", "me", "us", "let", "lets", "let's",
];

/// Verbs that introduce a field list.
const FIELD_VERBS: &[&str] = &[
    "has", "have", "contains", "contain", "includes", "include", "holds", "hold", "needs", "need",
    "requires", "require", "stores", "store", "keeps", "keep", "records", "record", "tracks",
    "track", "carries", "carry", "gets", "get",
];
const FIELD_PHRASES: &[&[&str]] = &[
    &["consists", "of"],
    &["consist", "of"],
    &["is", "made", "up", "of"],
    &["are", "made", "up", "of"],
    &["is", "described", "by"],
    &["are", "described", "by"],
    &["is", "defined", "by"],
    &["are", "defined", "by"],
    &["is", "made", "of"],
    &["comes", "with"],
    &["come", "with"],
];
const BELONGS_PHRASES: &[&[&str]] = &[
    &["belongs", "to"],
    &["belong", "to"],
    &["is", "part", "of"],
    &["are", "part", "of"],
    &["is", "assigned", "to"],
    &["are", "assigned", "to"],
    &["is", "linked", "to"],
    &["are", "linked", "to"],
    &["is", "owned", "by"],
    &["are", "owned", "by"],
    &["references"],
    &["reference"],
    &["refers", "to"],
    &["refer", "to"],
    &["points", "to"],
    &["point", "to"],
    &["is", "in"],
    &["are", "in"],
    &["is", "filed", "under"],
    &["are", "filed", "under"],
    &["falls", "under"],
    &["fall", "under"],
];
const LINK_VERBS: &[&str] = &[
    "links",
    "link",
    "connects",
    "connect",
    "joins",
    "join",
    "associates",
    "associate",
    "relates",
    "relate",
    "pairs",
    "pair",
    "matches",
    "match",
];
const MODALS: &[&str] =
    &["can", "may", "might", "should", "must", "will", "could", "shall", "optionally"];
const OPTIONAL_MODALS: &[&str] = &["can", "may", "might", "could", "optionally"];
const MANY_WORDS: &[&[&str]] = &[
    &["many"],
    &["multiple"],
    &["several"],
    &["a", "list", "of"],
    &["list", "of"],
    &["lots", "of"],
    &["a", "number", "of"],
    &["any", "number", "of"],
    &["one", "or", "more"],
    &["zero", "or", "more"],
    &["a", "set", "of"],
    &["a", "collection", "of"],
    &["various"],
];
/// Words that introduce a field list rather than name a field.
const LIST_WORDS: &[&str] =
    &["fields", "field", "attributes", "properties", "columns", "following"];

/// Words that end a noun phrase or a field name.
const STOP_WORDS: &[&str] = &[
    "in",
    "from",
    "between",
    "for",
    "per",
    "with",
    "like",
    "such",
    "e.g",
    "eg",
    "which",
    "that",
    "who",
    "whose",
    "where",
    "when",
    "to",
    "by",
    "into",
    "as",
    "if",
    "so",
    "because",
    "but",
    "while",
    "via",
    "using",
    "including",
    "except",
    "than",
];

/// Reads one clause; `first` is whether it opens the description.
pub fn statements(tokens: &[Token], first: bool) -> Vec<Statement> {
    let mut out = Vec::new();
    read_clause(tokens, first, &mut out, 0);
    out
}

fn read_clause(tokens: &[Token], first: bool, out: &mut Vec<Statement>, depth: usize) {
    let tokens =
        trim_leading(tokens, &["also", "and", "then", "additionally", "finally", "plus", "so"]);
    if tokens.is_empty() || depth > 4 {
        return;
    }
    if let Some((main, relative)) = split_relative(tokens) {
        read_clause(&main, first, out, depth + 1);
        read_clause(&relative, false, out, depth + 1);
        return;
    }
    if let Some(colon) = top_level(tokens, |token| *token == Token::Colon) {
        read_colon(&tokens[..colon], &tokens[colon + 1..], first, out, depth);
        return;
    }
    if let Some((intro, rest)) = intro(tokens, first) {
        out.push(intro);
        if !rest.is_empty() {
            read_clause(rest, false, out, depth + 1);
        }
        return;
    }
    if let Some((left, right)) = split_coordinated(tokens) {
        read_clause(left, first, out, depth + 1);
        read_clause(right, false, out, depth + 1);
        return;
    }
    if let Some(list) = there_are(tokens) {
        out.push(Statement::Entities(noun_list(list)));
        return;
    }
    if !has_verb(tokens) {
        let nouns = noun_list(tokens);
        if !nouns.is_empty() && nouns.iter().all(|noun| noun.is_plural() && noun.0.len() <= 3) {
            out.push(Statement::Entities(nouns));
            return;
        }
    }
    let before = out.len();
    read_sentence(tokens, out);
    if out.len() == before {
        out.push(Statement::Unplaced(joined_text(tokens)));
    }
}

/// `Students have many courses and courses have many students` → the two clauses, when
/// each side has a verb of its own.
fn split_coordinated(tokens: &[Token]) -> Option<(&[Token], &[Token])> {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Open => depth += 1,
            Token::Close => depth = depth.saturating_sub(1),
            Token::Word { lower, .. }
                if depth == 0
                    && index > 1
                    && matches!(lower.as_str(), "and" | "but" | "while" | "whereas") =>
            {
                let right = &tokens[index + 1..];
                let words = lower_words(right);
                let subject_length =
                    words.iter().take_while(|word| DETERMINERS.contains(&word.as_str())).count();
                let verb_follows = (subject_length + 1..=subject_length + 3).any(|at| {
                    words.get(at).is_some_and(|word| {
                        FIELD_VERBS.contains(&word.as_str())
                            || MODALS.contains(&word.as_str())
                            || matches!(word.as_str(), "belong" | "belongs" | "are" | "is")
                    }) && words[subject_length..at].iter().all(|word| {
                        !STOP_WORDS.contains(&word.as_str())
                            && !DETERMINERS.contains(&word.as_str())
                    })
                });
                let left = &tokens[..index];
                let left = if matches!(left.last(), Some(Token::Comma)) {
                    &left[..left.len() - 1]
                } else {
                    left
                };
                if verb_follows && has_verb(left) {
                    return Some((left, right));
                }
            }
            _ => {}
        }
    }
    None
}

/// `Books have: …` / `A todo app: todos have …` / `Book: title, author`.
fn read_colon(
    left: &[Token],
    right: &[Token],
    first: bool,
    out: &mut Vec<Statement>,
    depth: usize,
) {
    let left_words = lower_words(left);
    let left_ends_with_verb = left_words.last().is_some_and(|last| {
        FIELD_VERBS.contains(&last.as_str())
            || matches!(
                last.as_str(),
                "fields" | "following" | "with" | "attributes" | "properties" | "columns" | "of"
            )
    });
    if left_ends_with_verb {
        let mut joined = left.to_vec();
        joined.extend_from_slice(right);
        read_clause(&joined, first, out, depth + 1);
        return;
    }
    let left_names_entities = left_words.len() <= 3
        && left_words.iter().any(|word| {
            matches!(
                word.as_str(),
                "entities" | "models" | "tables" | "resources" | "objects" | "data" | "collections"
            )
        });
    if left_names_entities {
        out.push(Statement::Entities(noun_list(right)));
        return;
    }
    if has_verb(right) || intro(left, first).is_some() {
        read_clause(left, first, out, depth + 1);
        read_clause(right, false, out, depth + 1);
        return;
    }
    let subjects = noun_list(left);
    if subjects.is_empty() {
        out.push(Statement::Unplaced(joined_text(left)));
        return;
    }
    out.push(Statement::Fields { subjects, items: items(right) });
}

/// `A library where …`, `A todo app`, `Track expenses`, `An app to manage recipes`.
fn intro(tokens: &[Token], first: bool) -> Option<(Statement, &[Token])> {
    let mut index = 0;
    while index < tokens.len() && REQUEST_WORDS.contains(&tokens[index].lower()) {
        index += 1;
    }
    let word = tokens.get(index)?.lower();
    if TRACK_VERBS.contains(&word) || word == "keep" {
        let mut start = index + 1;
        if tokens.get(start).map(Token::lower) == Some("track")
            && tokens.get(start + 1).map(Token::lower) == Some("of")
        {
            start += 2;
        }
        let tracked = noun_list(cut_at_stop(&tokens[start..]));
        let name =
            tracked.first().map(|noun| format!("{}_{}", noun.entity_name(), tracker_word(word)));
        return (!tracked.is_empty()).then_some((Statement::Intro { name, tracked }, &[][..]));
    }
    if !matches!(word, "a" | "an" | "the") {
        return None;
    }
    let mut end = index + 1;
    while let Some(Token::Word { lower, .. }) = tokens.get(end) {
        let stops = STOP_WORDS.contains(&lower.as_str())
            || DETERMINERS.contains(&lower.as_str())
            || FIELD_VERBS.contains(&lower.as_str())
            || LINK_VERBS.contains(&lower.as_str())
            || MODALS.contains(&lower.as_str())
            || matches!(lower.as_str(), "is" | "are" | "belongs" | "belong" | "called" | "named")
            || words::is_known_verb(lower);
        if stops {
            break;
        }
        end += 1;
    }
    let head: Vec<&str> = tokens[index + 1..end]
        .iter()
        .map(Token::lower)
        .filter(|word| !ADJECTIVES.contains(word))
        .collect();
    if head.is_empty() || head.len() > 4 {
        return None;
    }
    let boundary = tokens.get(end).map(Token::lower);
    let last = *head.last()?;
    let is_app = APP_SUFFIXES.contains(&last) || APP_KEPT_SUFFIXES.contains(&last);
    let opens_clause = matches!(boundary, Some("where" | "in" | "whose"));
    let stands_alone = end == tokens.len() && first;
    if !(is_app || opens_clause || stands_alone) {
        return None;
    }
    let name_words = if APP_SUFFIXES.contains(&last) { &head[..head.len() - 1] } else { &head[..] };
    let mut name = Some(words::identifier(&name_words.join(" "))).filter(|name| !name.is_empty());
    let mut rest = &tokens[end..];
    let mut tracked = Vec::new();
    match boundary {
        Some("where" | "whose") => rest = &rest[1..],
        Some("in") if rest.get(1).map(Token::lower) == Some("which") => rest = &rest[2..],
        Some("for" | "to" | "that" | "which") => {
            let after = trim_leading(
                &rest[1..],
                &["helps", "help", "lets", "let", "people", "users", "you", "me", "us", "to"],
            );
            let verb = after.first().map(Token::lower).unwrap_or_default();
            if TRACK_VERBS.contains(&verb) {
                let mut start = 1;
                if after.get(1).map(Token::lower) == Some("track")
                    && after.get(2).map(Token::lower) == Some("of")
                {
                    start = 3;
                }
                tracked = noun_list(cut_at_stop(&after[start..]));
                rest = &[];
                if name.is_none() {
                    name = tracked
                        .first()
                        .map(|noun| format!("{}_{}", noun.entity_name(), tracker_word(verb)));
                }
            } else if boundary == Some("for") {
                let nouns = noun_list(cut_at_stop(after));
                if nouns.iter().all(Noun::is_plural) {
                    tracked = nouns;
                    rest = &[];
                }
            }
        }
        _ => {}
    }
    Some((Statement::Intro { name, tracked }, rest))
}

/// `manage` → `manager`, `track` → `tracker`.
fn tracker_word(verb: &str) -> &'static str {
    if verb.starts_with("manag") || verb.starts_with("organi") { "manager" } else { "tracker" }
}

/// A clause without colon or relative clause: fields, relations or an action.
fn read_sentence(tokens: &[Token], out: &mut Vec<Statement>) {
    let words = lower_words(tokens);
    if words.iter().any(|word| matches!(word.as_str(), "many-to-many" | "n:m"))
        || contains_phrase(&words, &["many", "to", "many"])
    {
        let nouns: Vec<Noun> = noun_list(cut_at(tokens, |word| {
            matches!(word, "are" | "is" | "have" | "has" | "many-to-many" | "many")
        }));
        if let [a, b] = &nouns[..] {
            out.push(Statement::ManyToMany(a.clone(), b.clone()));
            return;
        }
    }
    if let Some((position, length)) = find_any_phrase(&words, BELONGS_PHRASES) {
        let (subject, optional) = subject_before(&tokens[..position]);
        let targets = noun_list(cut_at_stop(&tokens[position + length..]));
        if !subject.is_empty() && !targets.is_empty() {
            out.push(Statement::BelongsTo { subjects: subject, targets, optional });
            fields_after_with(tokens, position + length, out, None);
            return;
        }
    }
    if let Some(position) = words.iter().position(|word| LINK_VERBS.contains(&word.as_str())) {
        let (subject, _) = subject_before(&tokens[..position]);
        let rest = &tokens[position + 1..];
        let rest = trim_leading(rest, &["between"]);
        let end = top_level(rest, |token| matches!(token, Token::Comma) || token.lower() == "with")
            .unwrap_or(rest.len());
        let targets: Vec<Noun> =
            split_list(&rest[..end], &["to", "with", "and"]).into_iter().filter_map(noun).collect();
        if let [subject] = &subject[..]
            && !targets.is_empty()
        {
            out.push(Statement::BelongsTo {
                subjects: vec![subject.clone()],
                targets,
                optional: false,
            });
            fields_after_with(tokens, position + 1, out, Some(subject.clone()));
            return;
        }
    }
    if let Some((position, length)) = field_verb(&words) {
        let (subjects, optional) = subject_before(&tokens[..position]);
        let after = &tokens[position + length..];
        let after_words = lower_words(after);
        if let Some((_, many_length)) =
            find_any_phrase(&after_words[..after_words.len().min(4)], MANY_WORDS)
                .filter(|(at, _)| *at == 0)
        {
            let targets = noun_list(cut_at_stop(&after[many_length..]));
            if !subjects.is_empty() && !targets.is_empty() {
                out.push(Statement::HasMany { subjects, targets });
                return;
            }
        }
        let about_the_app = subjects
            .iter()
            .all(|subject| subject.0.iter().all(|word| NOT_ENTITIES.contains(&word.as_str())));
        if about_the_app {
            // "It has books and members" / "The app stores books".
            out.push(Statement::Entities(noun_list(cut_at_stop(after))));
            return;
        }
        if !subjects.is_empty() {
            let mut list = items(after);
            if optional {
                list.iter_mut().for_each(|item| item.optional = true);
            }
            if !list.is_empty() {
                out.push(Statement::Fields { subjects, items: list });
                return;
            }
        }
    }
    if let Some(action) = action(tokens) {
        out.push(action);
        return;
    }
    // "Books with a title and an author" / "A list of recipes with a name".
    if let Some(with) = top_level(tokens, |token| token.lower() == "with") {
        let subjects = noun_list(strip_list_of(&tokens[..with]));
        let list = items(&tokens[with + 1..]);
        if !subjects.is_empty() && !list.is_empty() {
            out.push(Statement::Fields { subjects, items: list });
        }
    }
}

/// `A loan links a member to a book, with a due date` → the fields after `with`.
fn fields_after_with(
    tokens: &[Token],
    from: usize,
    out: &mut Vec<Statement>,
    subject: Option<Noun>,
) {
    let Some(with) = tokens[from..].iter().position(|token| token.lower() == "with") else {
        return;
    };
    let subject = subject.or_else(|| subject_before(&tokens[..from]).0.into_iter().next());
    let list = items(&tokens[from + with + 1..]);
    if let Some(subject) = subject
        && !list.is_empty()
    {
        out.push(Statement::Fields { subjects: vec![subject], items: list });
    }
}

/// `members can borrow books`, `a member borrows a book`, `todos can be completed by users`,
/// `users can mark todos as done`.
fn action(tokens: &[Token]) -> Option<Statement> {
    let words = lower_words(tokens);
    let modal = words.iter().position(|word| MODALS.contains(&word.as_str()));
    let (verb_at, subject_end) = match modal {
        Some(at) if at <= 5 => {
            let mut verb = at + 1;
            while words.get(verb).is_some_and(|word| {
                matches!(word.as_str(), "be" | "also" | "only" | "easily" | "then" | "able" | "to")
            }) {
                verb += 1;
            }
            (verb, at)
        }
        _ => {
            let at = words.iter().position(|word| {
                words::is_known_verb(word) && !DETERMINERS.contains(&word.as_str())
            })?;
            if at == 0 || at > 5 {
                return None;
            }
            let subject_end = if matches!(
                words.get(at - 1).map(String::as_str),
                Some("is" | "are" | "get" | "gets")
            ) {
                at - 1
            } else {
                at
            };
            (at, subject_end)
        }
    };
    let verb_word = words.get(verb_at)?;
    let passive = words[subject_end..verb_at].iter().any(|word| word == "be")
        || subject_end < verb_at
            && matches!(words[subject_end].as_str(), "is" | "are" | "get" | "gets");
    let subject = noun(&tokens[..subject_end]);
    if subject.as_ref().is_some_and(|subject| {
        subject.0.len() == 1 && NOT_ENTITIES.contains(&subject.0[0].as_str())
    }) {
        // "It should look nice": about the app, not something it stores.
        return None;
    }
    let rest = &tokens[verb_at + 1..];
    let mut verb = words::identifier(&words::verb_base(verb_word));
    if verb.is_empty()
        || FIELD_VERBS.contains(&verb_word.as_str())
        || matches!(verb_word.as_str(), "be" | "is" | "are" | "have" | "has")
    {
        return None;
    }
    if passive {
        // The subject is acted on; `by …` names who acts.
        let actor = lower_words(rest)
            .iter()
            .position(|word| word == "by")
            .and_then(|by| noun(cut_at_stop(&rest[by + 1..])));
        return Some(Statement::Action { actor, verb, object: subject? });
    }
    let object_tokens = cut_at_stop(rest);
    let object = noun(object_tokens).filter(|object| {
        !object.0.iter().any(|word| matches!(word.as_str(), "and" | "or" | "be" | "is" | "are"))
    })?;
    let rest_words = lower_words(&rest[object_tokens.len()..]);
    if let [as_word, state, ..] = &rest_words[..]
        && as_word == "as"
    {
        verb = words::identifier(&format!("{verb} {state}"));
    }
    Some(Statement::Action { actor: subject, verb, object })
}

/// `There are books, members and loans.` → the list.
fn there_are(tokens: &[Token]) -> Option<&[Token]> {
    let words = lower_words(tokens);
    match &words[..] {
        [there, be, ..] if there == "there" && matches!(be.as_str(), "are" | "is" | "will") => {
            let skip = if words.get(2).is_some_and(|word| word == "be") { 3 } else { 2 };
            Some(cut_at_stop(&tokens[skip..]))
        }
        _ => None,
    }
}

/// Where a field list starts: (index of the verb, words in the verb phrase).
fn field_verb(words: &[String]) -> Option<(usize, usize)> {
    let single =
        words.iter().position(|word| FIELD_VERBS.contains(&word.as_str())).map(|at| (at, 1));
    let phrase = find_any_phrase(words, FIELD_PHRASES);
    match (single, phrase) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The nouns before a verb, and whether a modal made what follows optional.
fn subject_before(tokens: &[Token]) -> (Vec<Noun>, bool) {
    let words = lower_words(tokens);
    let mut end = tokens.len();
    let mut optional = false;
    while end > 0
        && (MODALS.contains(&words[end - 1].as_str())
            || matches!(words[end - 1].as_str(), "also" | "always" | "usually" | "each" | "only"))
    {
        optional |= OPTIONAL_MODALS.contains(&words[end - 1].as_str());
        end -= 1;
    }
    let nouns = noun_list(&tokens[..end]);
    if nouns.len() > 5 || nouns.iter().any(|noun| noun.0.len() > 4) {
        return (Vec::new(), optional);
    }
    (nouns, optional)
}

fn has_verb(tokens: &[Token]) -> bool {
    let words = lower_words(tokens);
    field_verb(&words).is_some()
        || find_any_phrase(&words, BELONGS_PHRASES).is_some()
        || words
            .iter()
            .any(|word| LINK_VERBS.contains(&word.as_str()) || MODALS.contains(&word.as_str()))
        || words.iter().skip(1).take(5).any(|word| words::is_known_verb(word))
}

/// A relative clause: `Todos belong to projects, which have a name` → (`Todos belong to
/// projects`, `projects have a name`).
fn split_relative(tokens: &[Token]) -> Option<(Vec<Token>, Vec<Token>)> {
    let at = (1..tokens.len()).find(|&index| {
        matches!(tokens[index].lower(), "which" | "who")
            && matches!(tokens[index - 1], Token::Comma)
            && tokens.get(index + 1).is_some_and(|next| {
                let next = next.lower();
                FIELD_VERBS.contains(&next)
                    || MODALS.contains(&next)
                    || matches!(next, "belong" | "belongs")
            })
    })?;
    let main = tokens[..at - 1].to_vec();
    let subject = main.iter().rev().find(|token| matches!(token, Token::Word { .. }))?.clone();
    let mut relative = vec![subject];
    relative.extend_from_slice(&tokens[at + 1..]);
    Some((main, relative))
}

/// Splits a field list and reads each entry.
pub fn items(tokens: &[Token]) -> Vec<Item> {
    split_list(tokens, &["and", "or", "plus"]).into_iter().filter_map(item).collect()
}

/// One field-list entry.
fn item(tokens: &[Token]) -> Option<Item> {
    let mut result = Item::default();
    let mut words: Vec<&Token> = Vec::new();
    let mut index = 0;
    let lower: Vec<&str> = tokens.iter().map(Token::lower).collect();
    while index < tokens.len() {
        let word = lower[index];
        match &tokens[index] {
            Token::Open => {
                let close = tokens[index..]
                    .iter()
                    .position(|token| *token == Token::Close)
                    .map_or(tokens.len(), |at| index + at);
                read_parenthesis(&tokens[index + 1..close], &mut result);
                index = close + 1;
                continue;
            }
            Token::Comma | Token::Colon | Token::Close => {}
            Token::Word { .. } => match word {
                "optional" | "optionally" => result.optional = true,
                "required" | "mandatory" | "compulsory" => result.optional = false,
                "unique" | "distinct" => result.unique = true,
                "one" if lower.get(index + 1) == Some(&"of") => {
                    result.explicit_type = enum_values(&tokens[index + 2..]);
                    break;
                }
                "either" => {
                    result.explicit_type = enum_values(&tokens[index + 1..]);
                    break;
                }
                "of" if lower.get(index + 1) == Some(&"type") => {
                    result.explicit_type = type_words(&lower[index + 2..]);
                    break;
                }
                "as" | "which" | "that" | "is" | "must" | "can" | "if" if !words.is_empty() => {
                    read_qualifier(&lower[index..], &tokens[index..], &mut result);
                    break;
                }
                _ if STOP_WORDS.contains(&word) && !words.is_empty() => {
                    // `a preparation time in minutes`: a unit says what kind of number it is.
                    if matches!(word, "in" | "per") && result.explicit_type.is_none() {
                        result.explicit_type =
                            lower.get(index + 1).and_then(|unit| unit_type(unit));
                    }
                    break;
                }
                _ if words.is_empty()
                    && (DETERMINERS.contains(&word) || LIST_WORDS.contains(&word)) => {}
                _ => words.push(&tokens[index]),
            },
        }
        index += 1;
    }
    let mut noun: Vec<String> = words.iter().map(|token| token.lower().to_owned()).collect();
    if let Some(many) = MANY_WORDS.iter().find(|phrase| {
        noun.len() > phrase.len()
            && noun.starts_with(&phrase.iter().map(|word| (*word).to_owned()).collect::<Vec<_>>())
    }) {
        noun.drain(..many.len());
        result.many = true;
    }
    while noun.len() > 1
        && matches!(
            noun.last().map(String::as_str),
            Some("flag" | "checkbox" | "field" | "value" | "toggle")
        )
    {
        let removed = noun.pop().unwrap_or_default();
        result.flag |= matches!(removed.as_str(), "flag" | "checkbox" | "toggle");
    }
    // `placed at timestamp`, `launched on date`: the last word is the type.
    if let [.., preposition, last] = &noun[..]
        && noun.len() >= 3
        && matches!(preposition.as_str(), "at" | "on")
        && matches!(last.as_str(), "date" | "timestamp" | "time" | "datetime")
    {
        result.explicit_type =
            result.explicit_type.take().or_else(|| words::field_type_from_word(last));
        noun.pop();
    }
    if noun.is_empty() || noun.len() > 6 {
        return None;
    }
    result.noun = noun;
    Some(result)
}

/// `(optional)`, `(unique)`, `(one of A, B or C)`, `(integer)`, `(A, B or C)`.
fn read_parenthesis(tokens: &[Token], result: &mut Item) {
    let lower: Vec<&str> =
        tokens.iter().map(Token::lower).filter(|word| !word.is_empty()).collect();
    let text = lower.join(" ");
    if lower.contains(&"optional") || text.contains("if any") || text.contains("if known") {
        result.optional = true;
    }
    if lower.contains(&"unique") {
        result.unique = true;
    }
    if lower.contains(&"required") || lower.contains(&"mandatory") {
        result.optional = false;
    }
    if let Some(at) = lower.windows(2).position(|pair| pair == ["one", "of"]) {
        let start = tokens
            .iter()
            .enumerate()
            .filter(|(_, token)| token.lower() == "of")
            .map(|(index, _)| index)
            .find(|&index| index > at)
            .unwrap_or(0);
        result.explicit_type = enum_values(&tokens[start + 1..]);
    } else if let Some(ty) = type_words(&lower) {
        result.explicit_type = Some(ty);
    } else if (tokens.contains(&Token::Comma) || lower.contains(&"or"))
        && let Some(values) = enum_values(tokens)
    {
        result.explicit_type = Some(values);
    }
}

/// `as an integer`, `which is one of …`, `that must be unique`, `if any`.
fn read_qualifier(lower: &[&str], tokens: &[Token], result: &mut Item) {
    let text = lower.join(" ");
    if text.contains("optional")
        || text.starts_with("if any")
        || text.starts_with("if known")
        || text.contains("can be empty")
    {
        result.optional = true;
    }
    if text.contains("unique") {
        result.unique = true;
    }
    if let Some(at) = lower.windows(2).position(|pair| pair == ["one", "of"]) {
        result.explicit_type = enum_values(&tokens[at + 2..]);
    } else if let Some(at) = lower.iter().position(|word| *word == "either") {
        result.explicit_type = enum_values(&tokens[at + 1..]);
    } else if let Some(ty) = type_words(&lower[1..]) {
        result.explicit_type = Some(ty);
    }
}

/// The type a unit implies: whole minutes, days or pages; amounts of money or measures.
fn unit_type(unit: &str) -> Option<FieldType> {
    match unit {
        "seconds" | "minutes" | "hours" | "days" | "weeks" | "months" | "years" | "pages"
        | "pieces" | "units" | "items" | "people" | "steps" | "calories" | "points" => {
            Some(FieldType::Integer)
        }
        "euros" | "eur" | "dollars" | "usd" | "pounds" | "gbp" | "cents" | "kg" | "kilograms"
        | "grams" | "km" | "kilometers" | "kilometres" | "miles" | "meters" | "metres"
        | "percent" | "liters" | "litres" => Some(FieldType::Number),
        _ => None,
    }
}

/// `an integer`, `a whole number`, `type date` → the type.
fn type_words(lower: &[&str]) -> Option<FieldType> {
    let words: Vec<&str> = lower
        .iter()
        .copied()
        .filter(|word| {
            !matches!(*word, "a" | "an" | "the" | "be" | "is" | "type" | "stored" | "kept")
        })
        .collect();
    (1..=words.len().min(3))
        .rev()
        .find_map(|length| words::field_type_from_word(&words[..length].join(" ")))
}

/// `EUR, USD or GBP` → an enum of those values as written.
fn enum_values(tokens: &[Token]) -> Option<FieldType> {
    let end = tokens.iter().position(|token| *token == Token::Close).unwrap_or(tokens.len());
    let mut values: Vec<String> = Vec::new();
    for part in split_list(&tokens[..end], &["or", "and"]) {
        let value: Vec<&str> =
            part.iter().map(Token::text).filter(|word| !word.is_empty()).collect();
        let value = value.join(" ");
        let value = value.trim_matches(|c: char| !c.is_alphanumeric()).to_owned();
        if !value.is_empty() && !values.contains(&value) {
            values.push(value.chars().take(crate::spec::MAX_ENUM_VALUE_CHARS).collect());
        }
    }
    (values.len() >= 2).then_some(FieldType::Enum(values))
}

/// Splits at top-level commas and the given words (`and`, `or`), keeping parentheses whole
/// and `between 1 and 5` together.
fn split_list<'a>(tokens: &'a [Token], separators: &[&str]) -> Vec<&'a [Token]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    // Inside `one of A, B or C` (or `either A or B`) the list belongs to the enum until the
    // value after its `or`.
    let mut enum_open = false;
    let mut enum_last_value = false;
    for (index, token) in tokens.iter().enumerate() {
        let lower = token.lower();
        if depth == 0
            && (lower == "either"
                || lower == "of" && index > 0 && tokens[index - 1].lower() == "one")
        {
            enum_open = true;
            enum_last_value = false;
        }
        let separates = match token {
            Token::Open => {
                depth += 1;
                false
            }
            Token::Close => {
                depth = depth.saturating_sub(1);
                false
            }
            Token::Comma => depth == 0,
            Token::Word { .. } => depth == 0 && separators.contains(&lower),
            Token::Colon => false,
        };
        if !separates {
            continue;
        }
        if enum_open && !enum_last_value {
            enum_last_value = matches!(lower, "or" | "and");
            continue;
        }
        let inside_between = index >= 2 && tokens[index - 2].lower() == "between";
        if inside_between {
            continue;
        }
        enum_open = false;
        parts.push(&tokens[start..index]);
        start = index + 1;
    }
    parts.push(&tokens[start..]);
    parts
        .into_iter()
        .filter(|part| part.iter().any(|token| matches!(token, Token::Word { .. })))
        .collect()
}

/// A list of nouns: `books, members and loans`.
fn noun_list(tokens: &[Token]) -> Vec<Noun> {
    split_list(tokens, &["and", "or"]).into_iter().filter_map(noun).collect()
}

/// One noun phrase, determiners dropped; `None` when nothing is left or it is too long.
fn noun(tokens: &[Token]) -> Option<Noun> {
    let tokens = strip_list_of(tokens);
    let words: Vec<String> = tokens
        .iter()
        .filter(|token| matches!(token, Token::Word { .. }))
        .map(|token| token.lower().to_owned())
        .skip_while(|word| {
            DETERMINERS.contains(&word.as_str()) || ADJECTIVES.contains(&word.as_str())
        })
        .collect();
    (!words.is_empty()
        && words.len() <= 4
        && !words.iter().any(|word| STOP_WORDS.contains(&word.as_str())))
    .then_some(Noun(words))
}

fn strip_list_of(tokens: &[Token]) -> &[Token] {
    let words = lower_words(tokens);
    for phrase in MANY_WORDS {
        let at = (0..words.len()).find(|&at| {
            words[at..].len() >= phrase.len()
                && words[at..].iter().zip(phrase.iter()).all(|(word, wanted)| word == wanted)
        });
        if let Some(at) = at
            && words[..at].iter().all(|word| DETERMINERS.contains(&word.as_str()))
        {
            return &tokens[at + phrase.len()..];
        }
    }
    tokens
}

/// The tokens before the first stop word or comma.
fn cut_at_stop(tokens: &[Token]) -> &[Token] {
    cut_at(tokens, |word| STOP_WORDS.contains(&word))
}

fn cut_at(tokens: &[Token], stop: impl Fn(&str) -> bool) -> &[Token] {
    let end = tokens
        .iter()
        .position(|token| matches!(token, Token::Open | Token::Colon) || stop(token.lower()))
        .unwrap_or(tokens.len());
    &tokens[..end]
}

fn top_level(tokens: &[Token], wanted: impl Fn(&Token) -> bool) -> Option<usize> {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Open => depth += 1,
            Token::Close => depth = depth.saturating_sub(1),
            _ if depth == 0 && wanted(token) => return Some(index),
            _ => {}
        }
    }
    None
}

fn trim_leading<'a>(tokens: &'a [Token], words: &[&str]) -> &'a [Token] {
    let skip = tokens
        .iter()
        .take_while(|token| matches!(token, Token::Comma) || words.contains(&token.lower()))
        .count();
    &tokens[skip..]
}

fn lower_words(tokens: &[Token]) -> Vec<String> {
    tokens.iter().map(|token| token.lower().to_owned()).collect()
}

fn contains_phrase(words: &[String], phrase: &[&str]) -> bool {
    words
        .windows(phrase.len())
        .any(|window| window.iter().zip(phrase).all(|(word, wanted)| word == wanted))
}

/// The first place any of the phrases occurs: (index, phrase length).
fn find_any_phrase(words: &[String], phrases: &[&[&str]]) -> Option<(usize, usize)> {
    (0..words.len()).find_map(|at| {
        phrases
            .iter()
            .find(|phrase| {
                words[at..].len() >= phrase.len()
                    && words[at..].iter().zip(phrase.iter()).all(|(word, wanted)| word == wanted)
            })
            .map(|phrase| (at, phrase.len()))
    })
}

fn joined_text(tokens: &[Token]) -> String {
    tokens.iter().map(Token::text).filter(|word| !word.is_empty()).collect::<Vec<_>>().join(" ")
}
