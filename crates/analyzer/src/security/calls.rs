//! A call site seen the same way in every grammar: who is called, with which arguments.

use tree_sitter::Node;

/// One call: the callee as written (white space removed), positional arguments, and
/// named ones (Python keywords, Ruby hash arguments, JavaScript option objects).
pub(crate) struct Call<'t> {
    pub callee: String,
    pub positional: Vec<Node<'t>>,
    pub named: Vec<(String, Node<'t>)>,
}

/// Node kinds that are calls, in the grammars the security rules cover.
pub(crate) const CALL_KINDS: &[&str] = &[
    "call",
    "call_expression",
    "new_expression",
    "method_invocation",
    "object_creation_expression",
    "function_call_expression",
    "member_call_expression",
    "scoped_call_expression",
];

/// The last name of the callee (`system` of `os.system`), read without building the whole
/// callee text: the cheap first test of every call site.
pub(crate) fn callee_tail<'s>(
    node: Node<'_>,
    source: &'s [u8],
    kinds: &crate::kinds::KindTable,
) -> Option<&'s [u8]> {
    let field = |name| kinds.child(node, name);
    let holder = match node.kind() {
        "call" => field("method").or_else(|| field("function"))?,
        "call_expression" | "function_call_expression" => field("function")?,
        "new_expression" => field("constructor")?,
        "object_creation_expression" => field("type")?,
        "method_invocation" | "member_call_expression" | "scoped_call_expression" => field("name")?,
        _ => return None,
    };
    let text = source.get(holder.byte_range())?;
    let start = text
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$'))
        .map_or(0, |i| i + 1);
    Some(&text[start..])
}

/// The last name of a rule's callee pattern (`system` of `os.system`, `exec` of `=exec`).
pub(crate) fn pattern_tail(pattern: &str) -> &str {
    let pattern = pattern.trim_start_matches('=');
    pattern.rsplit(['.', ':', '>', ')']).next().unwrap_or(pattern)
}

/// The longest callee text considered; longer ones are chains no rule names.
const MAX_CALLEE_CHARS: usize = 200;

pub(crate) fn call<'t>(node: Node<'t>, source: &[u8]) -> Option<Call<'t>> {
    let field = |name| node.child_by_field_name(name);
    let text = |n: Node<'_>| compact(n, source);
    let callee = match node.kind() {
        "call" => match (field("receiver"), field("method"), field("function")) {
            // Ruby: receiver.method
            (Some(receiver), Some(method), _) => format!("{}.{}", text(receiver), text(method)),
            (None, Some(method), _) => text(method),
            // Python
            (_, _, Some(function)) => text(function),
            _ => return None,
        },
        "call_expression" | "function_call_expression" => text(field("function")?),
        "new_expression" => text(field("constructor")?),
        "object_creation_expression" => text(field("type")?),
        "method_invocation" => match field("object") {
            Some(object) => format!("{}.{}", text(object), text(field("name")?)),
            None => text(field("name")?),
        },
        "member_call_expression" => format!("{}->{}", text(field("object")?), text(field("name")?)),
        "scoped_call_expression" => format!("{}::{}", text(field("scope")?), text(field("name")?)),
        _ => return None,
    };
    if callee.len() > MAX_CALLEE_CHARS {
        return None;
    }
    let mut call = Call { callee, positional: Vec::new(), named: Vec::new() };
    if let Some(arguments) = field("arguments") {
        let mut cursor = arguments.walk();
        for argument in arguments.named_children(&mut cursor) {
            collect_argument(argument, source, &mut call);
        }
    }
    Some(call)
}

fn collect_argument<'t>(argument: Node<'t>, source: &[u8], call: &mut Call<'t>) {
    match argument.kind() {
        "comment" => {}
        // Python `f(shell=True)`
        "keyword_argument" => {
            if let (Some(name), Some(value)) =
                (argument.child_by_field_name("name"), argument.child_by_field_name("value"))
            {
                call.named.push((compact(name, source), value));
            }
        }
        // Ruby `f(verify: false)` and JavaScript `f({ shell: true })`
        "pair" => push_pair(argument, source, call),
        "object" | "hash" => {
            call.positional.push(argument);
            let mut cursor = argument.walk();
            for pair in argument.named_children(&mut cursor).filter(|p| p.kind() == "pair") {
                push_pair(pair, source, call);
            }
        }
        // PHP wraps each argument
        "argument" => call.positional.push(super::strings::unwrap(argument)),
        _ => call.positional.push(argument),
    }
}

fn push_pair<'t>(pair: Node<'t>, source: &[u8], call: &mut Call<'t>) {
    if let (Some(key), Some(value)) =
        (pair.child_by_field_name("key"), pair.child_by_field_name("value"))
    {
        let key = compact(key, source);
        let key = key.trim_matches(|c| c == '"' || c == '\'' || c == ':').to_owned();
        call.named.push((key, value));
    }
}

/// Whether `callee` is named by `pattern`: `=name` means exactly that; otherwise the callee
/// is the pattern or ends with it after `.`, `::` or `->`.
pub(crate) fn callee_matches(callee: &str, pattern: &str) -> bool {
    if let Some(exact) = pattern.strip_prefix('=') {
        return callee == exact;
    }
    callee == pattern
        || callee
            .strip_suffix(pattern)
            .is_some_and(|head| head.ends_with('.') || head.ends_with("::") || head.ends_with("->"))
}

/// The node's text with all white space removed.
pub(crate) fn compact(node: Node<'_>, source: &[u8]) -> String {
    let raw = source.get(node.byte_range()).unwrap_or_default();
    String::from_utf8_lossy(raw).chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::callee_matches;

    #[test]
    fn callee_patterns() {
        let cases = [
            ("os.system", "os.system", true),
            ("subprocess.run", "run", true),
            ("self.db.execute", "execute", true),
            ("re.exec", "=exec", false),
            ("exec", "=exec", true),
            ("Command::new", "Command::new", true),
            ("std::process::Command::new", "Command::new", true),
            ("$db->query", "query", true),
            ("myexecute", "execute", false),
        ];
        for (callee, pattern, expected) in cases {
            assert_eq!(callee_matches(callee, pattern), expected, "{callee} ~ {pattern}");
        }
    }
}
