//! What server functions send to the browser: plain, serializable views of domain rows.

use serde::{Deserialize, Serialize};

/// The signed-in person and where they act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_name: String,
    pub org_name: String,
    pub org_slug: String,
    pub role: String,
    /// Signed in through local mode (no identity provider configured).
    pub local_mode: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// When it was created, already formatted (UTC).
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub id: String,
    /// When it happened, already formatted (UTC).
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
}

/// What the editor shows about a buffer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BufferAnalysis {
    pub language: String,
    pub code_lines: u32,
    pub comment_lines: u32,
    pub maintainability: f64,
    pub functions: Vec<FunctionView>,
    pub problems: Vec<ProblemView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionView {
    pub name: String,
    pub start_line: u32,
    pub end_line: u32,
    pub cyclomatic: u32,
    pub cognitive: Option<u32>,
}

/// A finding or a syntax error, placed for an editor marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemView {
    /// `high`, `medium`, `low`, or `error` for syntax errors.
    pub severity: String,
    pub rule: String,
    pub message: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
}

/// Converts an analyzer report into what the editor needs.
#[cfg(feature = "ssr")]
pub fn buffer_analysis(report: ql_analyzer::FileReport) -> BufferAnalysis {
    let syntax = report.syntax_errors.iter().map(|e| ProblemView {
        severity: "error".to_owned(),
        rule: format!("syntax.{}", e.kind),
        message: match &e.expected {
            Some(token) => format!("syntax error: missing `{token}`"),
            None => "syntax error".to_owned(),
        },
        line: e.line,
        column: e.column,
        end_line: e.line,
    });
    let findings = report.findings.iter().map(|f| ProblemView {
        severity: f.severity.to_string(),
        rule: f.rule.clone(),
        message: f.message.clone(),
        line: f.line,
        column: f.column,
        end_line: f.end_line,
    });
    BufferAnalysis {
        language: report.language.id().to_owned(),
        code_lines: report.lines.code,
        comment_lines: report.lines.comment,
        maintainability: report.maintainability,
        functions: report
            .functions
            .iter()
            .map(|f| FunctionView {
                name: f.name.clone(),
                start_line: f.start_line,
                end_line: f.end_line,
                cyclomatic: f.cyclomatic,
                cognitive: f.cognitive,
            })
            .collect(),
        problems: syntax.chain(findings).collect(),
    }
}

/// One target of a gateway route, with its live health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTargetView {
    pub route: String,
    pub strategy: String,
    pub provider: String,
    pub kind: String,
    pub model: String,
    pub healthy: bool,
    pub latency_ms: Option<f64>,
}

/// A route the organisation manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteView {
    pub id: String,
    pub model: String,
    pub strategy: String,
    /// `provider/model`, with `*weight` when the weight is not 1.
    pub targets: Vec<String>,
}

/// A provider the organisation manages; whether it has a key, never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub models: Vec<String>,
    pub has_key: bool,
    /// The AWS region of a Bedrock provider; empty for the others.
    pub region: String,
}

/// A stack a project can be generated in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackOption {
    pub id: String,
    pub label: String,
}

/// A kept capsule of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapsuleView {
    pub id: String,
    pub app: String,
    pub stack: String,
    pub files: i64,
    pub size_bytes: i64,
    pub sha256: String,
    pub tests_ran: bool,
    pub tests_passed: i64,
    pub coverage_percent: Option<f64>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// What the New app form offers: the engine's stacks and the models a generation can name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationOptions {
    pub stacks: Vec<StackOption>,
    pub models: Vec<String>,
}

/// A generation as its page first shows it; its event stream fills in the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationSummary {
    pub id: String,
    pub status: String,
    pub description: String,
    pub stack: String,
    pub model: String,
    pub project_id: String,
    /// For a refinement: the generation it refines, and what was asked.
    pub parent_id: Option<String>,
    pub instruction: Option<String>,
}

/// The spec the built-in extractor reads in a description, as lines for people, with its
/// questions and the spec itself, to edit before generating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecPreviewView {
    pub lines: Vec<String>,
    pub questions: Vec<String>,
    pub spec: SpecDraft,
}

/// A spec as people edit it: the engine's spec JSON format, field for field, with names as
/// typed (the server turns them into identifiers and checks the whole).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecDraft {
    pub name: String,
    pub summary: String,
    pub entities: Vec<EntityDraft>,
    #[serde(default)]
    pub relations: Vec<RelationDraft>,
    #[serde(default)]
    pub actions: Vec<ActionDraft>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityDraft {
    pub name: String,
    /// Empty: derived from the name.
    pub plural: String,
    pub fields: Vec<FieldDraft>,
    /// `create`, `list`, `read`, `update`, `delete`.
    pub operations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDraft {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldTypeDraft,
    pub required: bool,
    pub unique: bool,
}

/// `{"kind": "string"}`, or `{"kind": "enum", "values": […]}`: only an enum has values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldTypeDraft {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationDraft {
    /// `belongs_to`, `has_many` or `many_to_many`.
    pub kind: String,
    /// Entity names, as the entities' names are typed.
    pub from: String,
    pub to: String,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDraft {
    pub name: String,
    pub entity: String,
    pub actor: Option<String>,
}

/// A generation's file as the workspace holds it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceFileView {
    pub path: String,
    /// 1 until it is first saved.
    pub version: i64,
    pub content: String,
}

/// One saved version of a file, as its history lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileVersionView {
    pub version: i64,
    /// `generated`, `edited`, `restored version 3`, …
    pub note: String,
    pub size_bytes: i64,
    /// When it was saved, already formatted (UTC); empty for generated text never saved.
    pub saved: String,
}

/// A row of a side-by-side diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffRowView {
    /// `same`, `changed`, `removed` or `added`.
    pub kind: String,
    pub old_line: Option<usize>,
    pub old_text: Option<String>,
    pub new_line: Option<usize>,
    pub new_text: Option<String>,
}

/// A project on the dashboard, with its newest generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectActivityView {
    pub id: String,
    pub name: String,
    pub generation_id: Option<String>,
    /// The newest generation's status.
    pub status: Option<String>,
    /// What it was asked to build, shortened.
    pub description: Option<String>,
    /// When it was queued, already formatted (UTC).
    pub queued: Option<String>,
}

/// One UTC day of model usage, for the dashboard's chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageDayView {
    /// `MM-DD`.
    pub label: String,
    pub calls: i64,
    pub tokens: i64,
    pub cost_micros: i64,
}

/// One file a refinement changed, for review: the parent's text against the proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefinedFileView {
    pub path: String,
    /// `added`, `modified` or `removed`.
    pub change: String,
    /// `accepted`, `rejected`, or `None` while undecided.
    pub decision: Option<String>,
    /// The person's edits to the earlier generation were merged into the proposal.
    pub edits_merged: bool,
    /// The person's edits touch the lines the refinement changed: the proposal leaves them out.
    pub edits_conflict: bool,
    pub rows: Vec<DiffRowView>,
}

/// A refinement's changes against the generation it refines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefinementView {
    pub parent_id: String,
    pub instruction: String,
    pub files: Vec<RefinedFileView>,
}

/// A decision taken, and the file as the workspace now shows it (`None` when it is left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionView {
    pub file: RefinedFileView,
    pub workspace: Option<WorkspaceFileView>,
}
