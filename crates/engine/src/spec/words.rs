//! English word handling for spec extraction: identifiers, plurals and singulars, field types
//! read from field names, and verbs brought back to their base form.

use super::FieldType;

/// Longest identifier the spec accepts (PostgreSQL's limit for names).
pub const MAX_IDENTIFIER: usize = 63;

/// `Published Year` → `published_year`; quotes, braces and other punctuation become
/// separators, a leading digit gets a letter before it. Empty when nothing usable is left.
pub fn identifier(words: &str) -> String {
    let mut out = String::new();
    let mut pending_separator = false;
    for character in words.chars() {
        if character.is_ascii_alphanumeric() {
            if pending_separator && !out.is_empty() {
                out.push('_');
            }
            pending_separator = false;
            out.push(character.to_ascii_lowercase());
        } else {
            pending_separator = true;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "n_");
    }
    while out.len() > MAX_IDENTIFIER {
        out.pop();
    }
    out.trim_end_matches('_').to_owned()
}

/// Nouns whose plural does not follow the rules, singular first.
const IRREGULAR: &[(&str, &str)] = &[
    ("person", "people"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("foot", "feet"),
    ("tooth", "teeth"),
    ("ox", "oxen"),
    ("criterion", "criteria"),
    ("phenomenon", "phenomena"),
    ("analysis", "analyses"),
    ("thesis", "theses"),
    ("crisis", "crises"),
    ("diagnosis", "diagnoses"),
    ("datum", "data"),
    ("medium", "media"),
    ("curriculum", "curricula"),
    ("index", "indices"),
    ("matrix", "matrices"),
    ("vertex", "vertices"),
    ("appendix", "appendices"),
    ("cactus", "cacti"),
    ("fungus", "fungi"),
    ("syllabus", "syllabi"),
    ("alumnus", "alumni"),
    ("leaf", "leaves"),
    ("knife", "knives"),
    ("life", "lives"),
    ("wife", "wives"),
    ("half", "halves"),
    ("shelf", "shelves"),
    ("wolf", "wolves"),
    ("calf", "calves"),
    ("loaf", "loaves"),
    ("thief", "thieves"),
    ("hero", "heroes"),
    ("potato", "potatoes"),
    ("tomato", "tomatoes"),
    ("echo", "echoes"),
    ("veto", "vetoes"),
    ("quiz", "quizzes"),
    ("bus", "buses"),
    ("status", "statuses"),
    ("campus", "campuses"),
    ("virus", "viruses"),
    ("bonus", "bonuses"),
    ("census", "censuses"),
    ("genus", "genera"),
    ("die", "dice"),
];

/// Nouns spelled the same in both numbers.
const UNCHANGING: &[&str] = &[
    "sheep",
    "fish",
    "deer",
    "series",
    "species",
    "news",
    "moose",
    "aircraft",
    "equipment",
    "information",
    "software",
    "feedback",
    "metadata",
    "staff",
    "inventory",
    "furniture",
];

/// The plural of a singular noun (the last word of a name decides).
pub fn plural(noun: &str) -> String {
    let (head, last) = split_last_word(noun);
    format!("{head}{}", plural_word(last))
}

/// The singular of a plural noun (the last word of a name decides); a singular stays as it is.
pub fn singular(noun: &str) -> String {
    let (head, last) = split_last_word(noun);
    format!("{head}{}", singular_word(last))
}

/// Whether the last word of `noun` reads as a plural.
pub fn is_plural(noun: &str) -> bool {
    let (_, last) = split_last_word(noun);
    if UNCHANGING.contains(&last) {
        return false;
    }
    singular_word(last) != last
}

fn split_last_word(noun: &str) -> (&str, &str) {
    match noun.rfind(['_', ' ']) {
        Some(index) => (&noun[..=index], &noun[index + 1..]),
        None => ("", noun),
    }
}

fn plural_word(word: &str) -> String {
    if UNCHANGING.contains(&word) {
        return word.to_owned();
    }
    if let Some((_, plural)) = IRREGULAR.iter().find(|(singular, _)| *singular == word) {
        return (*plural).to_owned();
    }
    if IRREGULAR.iter().any(|(_, plural)| *plural == word) {
        return word.to_owned();
    }
    let ends_with_consonant_y = word.len() > 1
        && word.ends_with('y')
        && !word[..word.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if ends_with_consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if word.ends_with(['s', 'x', 'z']) || word.ends_with("ch") || word.ends_with("sh") {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

fn singular_word(word: &str) -> String {
    if UNCHANGING.contains(&word) {
        return word.to_owned();
    }
    if let Some((singular, _)) = IRREGULAR.iter().find(|(_, plural)| *plural == word) {
        return (*singular).to_owned();
    }
    if IRREGULAR.iter().any(|(singular, _)| *singular == word) {
        return word.to_owned();
    }
    if word.len() > 4 && word.ends_with("ies") {
        return format!("{}y", &word[..word.len() - 3]);
    }
    for ending in ["sses", "shes", "ches", "xes", "zes"] {
        if word.len() > ending.len() + 1 && word.ends_with(ending) {
            return word[..word.len() - 2].to_owned();
        }
    }
    let keeps_its_s =
        word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") || word.len() <= 3;
    if word.ends_with('s') && !keeps_its_s {
        return word[..word.len() - 1].to_owned();
    }
    word.to_owned()
}

/// The field type a field's name implies, and whether the name spoke of it at all
/// (`false` means "a string, because nothing said otherwise").
pub fn field_type_from_name(name: &str) -> (FieldType, bool) {
    let words: Vec<&str> = name.split('_').collect();
    let last = words.last().copied().unwrap_or_default();
    let first = words.first().copied().unwrap_or_default();
    let has = |candidates: &[&str]| words.iter().any(|word| candidates.contains(word));
    let ty = if has(&["email", "e_mail"]) || name == "e_mail" {
        FieldType::Email
    } else if has(&["url", "website", "homepage", "link", "uri"]) {
        FieldType::Url
    } else if matches!(first, "is" | "has" | "can" | "should")
        || has(&[
            "flag",
            "done",
            "completed",
            "complete",
            "returned",
            "active",
            "enabled",
            "disabled",
            "paid",
            "published",
            "archived",
            "verified",
            "approved",
            "available",
            "visible",
            "finished",
            "read",
            "public",
            "private",
            "featured",
            "deleted",
            "confirmed",
            "checked",
            "resolved",
            "closed",
            "open",
            "cancelled",
            "canceled",
            "shipped",
            "delivered",
            "boolean",
        ]) && !has(&["date", "at", "on", "time", "count", "number", "by", "year"])
    {
        FieldType::Boolean
    } else if matches!(last, "at" | "datetime" | "timestamp") || has(&["timestamp", "datetime"]) {
        FieldType::Datetime
    } else if has(&["date", "birthday", "dob", "deadline", "day"]) || last == "on" {
        FieldType::Date
    } else if has(&[
        "year",
        "count",
        "quantity",
        "age",
        "pages",
        "stock",
        "qty",
        "number",
        "rank",
        "position",
        "seats",
        "capacity",
        "minutes",
        "hours",
        "days",
        "servings",
        "calories",
        "floor",
        "level",
        "priority_level",
        "votes",
        "likes",
        "views",
        "duration",
        "size",
        "integer",
    ]) && !has(&["phone", "isbn", "serial", "account", "registration", "id"])
    {
        FieldType::Integer
    } else if has(&[
        "price",
        "amount",
        "cost",
        "total",
        "salary",
        "balance",
        "rate",
        "weight",
        "height",
        "width",
        "length",
        "latitude",
        "longitude",
        "lat",
        "lng",
        "percent",
        "percentage",
        "score",
        "budget",
        "fee",
        "tax",
        "discount",
        "distance",
        "temperature",
        "rating",
        "value",
        "revenue",
        "income",
        "expense",
        "number_value",
        "decimal",
        "float",
    ]) {
        FieldType::Number
    } else if has(&[
        "notes",
        "note",
        "description",
        "bio",
        "body",
        "content",
        "comment",
        "comments",
        "summary",
        "details",
        "text",
        "instructions",
        "message",
        "biography",
        "abstract",
        "review",
        "ingredients",
        "steps",
        "address",
    ]) {
        FieldType::Text
    } else {
        return (FieldType::String, false);
    };
    (ty, true)
}

/// The field type a type word names (`integer`, `a number`, `text`, `date`, …).
pub fn field_type_from_word(word: &str) -> Option<FieldType> {
    Some(match word {
        "string" | "str" | "name" | "word" => FieldType::String,
        "text" | "paragraph" | "long text" => FieldType::Text,
        "integer" | "int" | "whole number" | "count" => FieldType::Integer,
        "number" | "decimal" | "float" | "money" | "amount" | "price" => FieldType::Number,
        "boolean" | "bool" | "flag" | "yes/no" | "checkbox" => FieldType::Boolean,
        "date" | "day" => FieldType::Date,
        "datetime" | "timestamp" | "date and time" | "time" => FieldType::Datetime,
        "email" | "email address" | "e-mail" => FieldType::Email,
        "url" | "link" | "web address" => FieldType::Url,
        _ => return None,
    })
}

/// Verbs an action may use, in base form, so that `borrows`, `borrowed` and `borrowing` are
/// read as `borrow`.
const KNOWN_VERBS: &[&str] = &[
    "borrow",
    "return",
    "complete",
    "archive",
    "approve",
    "reject",
    "publish",
    "unpublish",
    "cancel",
    "close",
    "reopen",
    "open",
    "assign",
    "share",
    "like",
    "follow",
    "rate",
    "review",
    "book",
    "reserve",
    "pay",
    "ship",
    "order",
    "submit",
    "enroll",
    "register",
    "vote",
    "comment",
    "rent",
    "buy",
    "sell",
    "purchase",
    "adopt",
    "join",
    "leave",
    "attend",
    "accept",
    "decline",
    "confirm",
    "check",
    "mark",
    "finish",
    "start",
    "stop",
    "pause",
    "resume",
    "schedule",
    "invite",
    "subscribe",
    "unsubscribe",
    "upload",
    "download",
    "tag",
    "bookmark",
    "favorite",
    "favourite",
    "lend",
    "loan",
    "sign",
    "play",
    "watch",
    "read",
    "write",
    "visit",
    "apply",
    "hire",
    "fire",
    "transfer",
    "deposit",
    "withdraw",
    "refund",
    "deliver",
    "cook",
    "track",
    "log",
    "report",
    "resolve",
    "escalate",
    "claim",
    "redeem",
    "renew",
    "activate",
    "deactivate",
    "verify",
    "flag",
    "pin",
    "star",
    "upvote",
    "downvote",
    "answer",
    "ask",
    "block",
    "mute",
    "report",
    "move",
    "copy",
    "restore",
    "delete",
    "duplicate",
    "send",
    "receive",
    "trade",
    "bid",
    "win",
    "lose",
    "donate",
    "fund",
    "sponsor",
];

/// Past forms that do not end in `-ed` the regular way.
const IRREGULAR_VERBS: &[(&str, &str)] = &[
    ("paid", "pay"),
    ("sold", "sell"),
    ("bought", "buy"),
    ("lent", "lend"),
    ("sent", "send"),
    ("won", "win"),
    ("lost", "lose"),
    ("written", "write"),
    ("wrote", "write"),
    ("read", "read"),
    ("left", "leave"),
    ("began", "begin"),
    ("begun", "begin"),
    ("taken", "take"),
    ("took", "take"),
    ("given", "give"),
    ("gave", "give"),
    ("made", "make"),
    ("kept", "keep"),
    ("held", "hold"),
    ("chosen", "choose"),
];

/// `borrows`, `borrowed`, `borrowing` → `borrow`; `completed` → `complete`. Verbs outside the
/// known list lose a regular ending.
pub fn verb_base(word: &str) -> String {
    if word.len() < 2 || !word.chars().all(|c| c.is_ascii_alphabetic()) {
        return word.to_owned();
    }
    if let Some((_, base)) = IRREGULAR_VERBS.iter().find(|(form, _)| *form == word) {
        return (*base).to_owned();
    }
    if KNOWN_VERBS.contains(&word) {
        return word.to_owned();
    }
    for verb in KNOWN_VERBS {
        let doubled = verb.chars().last().map(|c| format!("{verb}{c}")).unwrap_or_default();
        let forms = [
            format!("{verb}s"),
            format!("{verb}es"),
            format!("{verb}ed"),
            format!("{verb}d"),
            format!("{verb}ing"),
            format!("{doubled}ed"),
            format!("{doubled}ing"),
            verb.strip_suffix('e').map(|stem| format!("{stem}ing")).unwrap_or_default(),
            verb.strip_suffix('y').map(|stem| format!("{stem}ies")).unwrap_or_default(),
            verb.strip_suffix('y').map(|stem| format!("{stem}ied")).unwrap_or_default(),
        ];
        if forms.iter().any(|form| !form.is_empty() && form == word) {
            return (*verb).to_owned();
        }
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for ending in ["ing", "ed", "es", "s"] {
        if let Some(stem) = word.strip_suffix(ending)
            && stem.len() >= 3
            && !(ending == "s" && stem.ends_with('s'))
        {
            return stem.to_owned();
        }
    }
    word.to_owned()
}

/// Whether `word` is a verb we know, in any of its forms.
pub fn is_known_verb(word: &str) -> bool {
    !word.is_empty() && KNOWN_VERBS.contains(&verb_base(word).as_str())
        || IRREGULAR_VERBS.iter().any(|(form, _)| *form == word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_snake_case_and_safe() {
        for (input, expected) in [
            ("Published Year", "published_year"),
            ("ISBN", "isbn"),
            ("O'Brien \"quote\"", "o_brien_quote"),
            ("{name}; DROP TABLE x;--", "name_drop_table_x"),
            ("3d model", "n_3d_model"),
            ("  ", ""),
            ("é", ""),
        ] {
            assert_eq!(identifier(input), expected, "{input}");
        }
        assert!(identifier(&"a".repeat(200)).len() <= MAX_IDENTIFIER);
    }

    #[test]
    fn plurals_and_singulars_round_trip() {
        for (singular_form, plural_form) in [
            ("book", "books"),
            ("category", "categories"),
            ("day", "days"),
            ("box", "boxes"),
            ("class", "classes"),
            ("match", "matches"),
            ("person", "people"),
            ("child", "children"),
            ("status", "statuses"),
            ("address", "addresses"),
            ("series", "series"),
            ("leaf", "leaves"),
            ("hero", "heroes"),
            ("photo", "photos"),
            ("quiz", "quizzes"),
            ("analysis", "analyses"),
            ("todo", "todos"),
            ("blog_post", "blog_posts"),
            ("order_item", "order_items"),
            ("bus", "buses"),
        ] {
            assert_eq!(plural(singular_form), plural_form, "plural of {singular_form}");
            assert_eq!(singular(plural_form), singular_form, "singular of {plural_form}");
            assert_eq!(singular(singular_form), singular_form, "singular of {singular_form}");
        }
        assert!(is_plural("members"));
        assert!(!is_plural("member"));
        assert!(!is_plural("status"));
        assert!(is_plural("people"));
    }

    #[test]
    fn types_follow_from_names() {
        use FieldType::*;
        for (name, expected) in [
            ("due_date", Date),
            ("birthday", Date),
            ("created_at", Datetime),
            ("price", Number),
            ("amount", Number),
            ("published_year", Integer),
            ("page_count", Integer),
            ("number_of_pages", Integer),
            ("done", Boolean),
            ("is_active", Boolean),
            ("returned", Boolean),
            ("email", Email),
            ("website", Url),
            ("notes", Text),
            ("title", String),
            ("isbn", String),
            ("phone_number", String),
        ] {
            assert_eq!(field_type_from_name(name).0, expected, "{name}");
        }
    }

    #[test]
    fn verbs_come_back_to_their_base() {
        for (form, base) in [
            ("borrow", "borrow"),
            ("borrows", "borrow"),
            ("borrowed", "borrow"),
            ("completed", "complete"),
            ("completing", "complete"),
            ("paid", "pay"),
            ("shipped", "ship"),
            ("submitted", "submit"),
            ("archives", "archive"),
            ("replies", "reply"),
            ("adopts", "adopt"),
        ] {
            assert_eq!(verb_base(form), base, "{form}");
        }
        assert!(is_known_verb("borrows"));
        assert!(!is_known_verb("have"));
        assert!(!is_known_verb(""), "punctuation is no verb");
    }
}
