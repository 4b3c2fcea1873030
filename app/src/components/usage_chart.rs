//! Tokens and cost per day as an SVG chart: a bar of tokens per day and a line of cost over
//! them, each on its own scale. The geometry is a pure function, tested without a browser.

use leptos::prelude::*;

use crate::wire::UsageDayView;

/// The drawing's size in SVG units; it scales to its box.
pub const WIDTH: f64 = 600.0;
pub const HEIGHT: f64 = 180.0;
/// Room under the bars for the day labels.
const LABEL_SPACE: f64 = 18.0;

/// One day's bar, in SVG units.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// Where everything goes: a bar per day, the cost line's points, and the label of every
/// `label_every`-th day.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub bars: Vec<Bar>,
    pub cost_points: Vec<(f64, f64)>,
    pub label_every: usize,
}

/// Lays out `days` in a `WIDTH` × `HEIGHT` drawing. The tallest day's tokens fill the plot's
/// height, as does the dearest day's cost; a day without any is drawn flat.
pub fn layout(days: &[UsageDayView]) -> Layout {
    let plot = HEIGHT - LABEL_SPACE;
    let slot = WIDTH / days.len().max(1) as f64;
    let most_tokens = days.iter().map(|day| day.tokens).max().unwrap_or(0).max(1) as f64;
    let most_cost = days.iter().map(|day| day.cost_micros).max().unwrap_or(0).max(1) as f64;
    let bars = days
        .iter()
        .enumerate()
        .map(|(index, day)| {
            let height = plot * day.tokens.max(0) as f64 / most_tokens;
            Bar {
                x: index as f64 * slot + slot * 0.15,
                y: plot - height,
                width: slot * 0.7,
                height,
            }
        })
        .collect();
    let cost_points = days
        .iter()
        .enumerate()
        .map(|(index, day)| {
            let x = index as f64 * slot + slot / 2.0;
            (x, plot - plot * day.cost_micros.max(0) as f64 / most_cost)
        })
        .collect();
    // About eight labels, whatever the number of days.
    let label_every = days.len().div_ceil(8).max(1);
    Layout { bars, cost_points, label_every }
}

fn dollars(micros: i64) -> String {
    format!("${:.4}", micros as f64 / 1_000_000.0)
}

/// The chart, with a sentence that says the same for people who cannot see it.
#[component]
pub fn UsageChart(days: Vec<UsageDayView>) -> impl IntoView {
    let total_tokens: i64 = days.iter().map(|day| day.tokens).sum();
    let total_cost: i64 = days.iter().map(|day| day.cost_micros).sum();
    let total_calls: i64 = days.iter().map(|day| day.calls).sum();
    let summary = format!(
        "{total_tokens} tokens in {total_calls} calls, {} in the last {} days",
        dollars(total_cost),
        days.len()
    );
    let Layout { bars, cost_points, label_every } = layout(&days);
    let line =
        cost_points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
    let slot = WIDTH / days.len().max(1) as f64;
    view! {
            <figure class="usage-chart">
                <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=format!("Tokens and cost per day: {summary}")
    >
                    {bars.into_iter().zip(days.iter()).map(|(bar, day)| view! {
                        <rect class="usage-bar" x=format!("{:.1}", bar.x) y=format!("{:.1}", bar.y)
                            width=format!("{:.1}", bar.width) height=format!("{:.1}", bar.height)>
                            <title>{format!("{}: {} tokens, {} calls, {}", day.label, day.tokens, day.calls, dollars(day.cost_micros))}</title>
                        </rect>
                    }).collect_view()}
                    <polyline class="usage-cost" points=line fill="none" />
                    {days.iter().enumerate().filter(|(index, _)| index % label_every == 0).map(|(index, day)| view! {
                        <text class="usage-label" x=format!("{:.1}", index as f64 * slot + slot / 2.0) y=format!("{:.1}", HEIGHT - 4.0)
                            text-anchor="middle">{day.label.clone()}</text>
                    }).collect_view()}
                </svg>
                <figcaption>
                    <span class="legend legend-tokens">"Tokens"</span>
                    <span class="legend legend-cost">"Cost"</span>
                    " · "{summary}
                </figcaption>
            </figure>
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(label: &str, tokens: i64, cost_micros: i64) -> UsageDayView {
        UsageDayView { label: label.into(), calls: 1, tokens, cost_micros }
    }

    #[test]
    fn the_busiest_day_fills_the_plot_and_empty_days_are_flat() {
        let days = [day("11-01", 100, 0), day("11-02", 0, 0), day("11-03", 50, 2_000)];
        let layout = layout(&days);
        let plot = HEIGHT - LABEL_SPACE;
        assert_eq!(layout.bars.len(), 3);
        assert!((layout.bars[0].height - plot).abs() < 1e-9);
        assert_eq!(layout.bars[1].height, 0.0);
        assert!((layout.bars[2].height - plot / 2.0).abs() < 1e-9);
        // Bars sit in their own slots, left to right, inside the drawing.
        assert!(layout.bars.windows(2).all(|pair| pair[0].x + pair[0].width < pair[1].x));
        assert!(layout.bars.iter().all(|bar| bar.x >= 0.0 && bar.x + bar.width <= WIDTH));
        // The dearest day's cost is at the top; no cost is at the bottom.
        assert_eq!(layout.cost_points[2].1, 0.0);
        assert_eq!(layout.cost_points[0].1, plot);
    }

    #[test]
    fn no_usage_at_all_draws_flat_and_labels_stay_few() {
        let days: Vec<_> = (0..30).map(|n| day(&format!("d{n}"), 0, 0)).collect();
        let layout = layout(&days);
        assert!(layout.bars.iter().all(|bar| bar.height == 0.0));
        assert_eq!(layout.label_every, 4);
        assert_eq!(layout.bars.len(), 30);
        assert!(super::layout(&[]).bars.is_empty());
    }
}
