//! The timeline of a failover: data per connection over time, the fault, the takeover, the
//! gratuitous ARPs and keepalived's state changes; as data (in `lab verify --json`) and as an
//! SVG picture drawn with `plotters`.

use plotters::prelude::*;
use serde::Serialize;

/// Times are milliseconds relative to the fault (negative before it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// The failed director.
    pub director: String,
    /// `hard` or `graceful`.
    pub how: String,
    /// The fault, in ns since the epoch (the origin of every `*_ms`).
    pub fault_ns: u64,
    /// The takeover (`ha`: first gratuitous ARP from the new holder at the client; `ecmp`:
    /// the route withdrawal), ms after the fault.
    pub takeover_ms: Option<f64>,
    /// Gratuitous ARPs for the VIP seen by the client: (ms, sender host or MAC).
    pub announcements: Vec<(f64, String)>,
    /// keepalived's state changes: (ms, director, line). keepalived stamps to the second.
    pub vrrp: Vec<(f64, String, String)>,
    /// One row per long-lived connection.
    pub connections: Vec<ConnectionRow>,
}

/// One connection on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionRow {
    /// The client's local port.
    pub port: u16,
    /// The real server(s) that sent its data.
    pub servers: Vec<String>,
    /// When data arrived (ms).
    pub reads_ms: Vec<f64>,
    /// How and when it ended, if it did.
    pub end: Option<(f64, String)>,
    /// The longest time without data after the fault (ms).
    pub gap_ms: f64,
}

impl Timeline {
    /// The picture: one row per connection (a dot per read, a cross where it ended), a red
    /// line at the fault, a green one at the takeover, orange ticks for gratuitous ARPs.
    pub fn svg(&self) -> String {
        let mut out = String::new();
        let rows = self.connections.len().max(1);
        let height = 140 + 28 * rows as u32;
        {
            let root = SVGBackend::with_string(&mut out, (960, height)).into_drawing_area();
            let _ = self.draw(&root, rows);
            let _ = root.present();
        }
        out
    }

    fn draw(
        &self,
        root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
        rows: usize,
    ) -> Result<(), Box<dyn std::error::Error + '_>> {
        root.fill(&WHITE)?;
        let all = self
            .connections
            .iter()
            .flat_map(|c| c.reads_ms.iter().copied())
            .chain(self.takeover_ms);
        let (lo, hi) = all.fold((-1000.0f64, 1000.0f64), |(lo, hi), t| {
            (lo.min(t), hi.max(t))
        });
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!(
                    "failover of {} ({}): data per connection",
                    self.director, self.how
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(120)
            .build_cartesian_2d(lo / 1000.0..hi / 1000.0, -0.5f64..rows as f64 - 0.5)?;
        let labels: Vec<String> = self
            .connections
            .iter()
            .map(|c| format!(":{} {}", c.port, c.servers.join("/")))
            .collect();
        chart
            .configure_mesh()
            .x_desc("seconds after the fault")
            .y_labels(rows)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 0.01 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .draw()?;
        let top = rows as f64 - 0.5;
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, -0.5), (0.0, top)],
                RED.stroke_width(2),
            ))?
            .label("fault")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        if let Some(t) = self.takeover_ms {
            chart
                .draw_series(LineSeries::new(
                    vec![(t / 1000.0, -0.5), (t / 1000.0, top)],
                    GREEN.stroke_width(2),
                ))?
                .label("takeover")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], GREEN));
        }
        if !self.announcements.is_empty() {
            chart
                .draw_series(self.announcements.iter().map(|(t, _)| {
                    TriangleMarker::new((t / 1000.0, -0.4), 6, RGBColor(230, 140, 0).filled())
                }))?
                .label("gratuitous ARP")
                .legend(|(x, y)| {
                    TriangleMarker::new((x + 8, y), 5, RGBColor(230, 140, 0).filled())
                });
        }
        for (row, conn) in self.connections.iter().enumerate() {
            chart.draw_series(
                conn.reads_ms
                    .iter()
                    .map(|t| Circle::new((t / 1000.0, row as f64), 2, BLUE.filled())),
            )?;
            if let Some((t, _)) = &conn.end {
                chart.draw_series(std::iter::once(Cross::new(
                    (t / 1000.0, row as f64),
                    6,
                    BLACK.stroke_width(2),
                )))?;
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picture_is_svg_with_every_connection() {
        let timeline = Timeline {
            director: "lb1".into(),
            how: "hard".into(),
            fault_ns: 0,
            takeover_ms: Some(3600.0),
            announcements: vec![(3600.0, "lb2".into())],
            vrrp: vec![],
            connections: vec![
                ConnectionRow {
                    port: 40000,
                    servers: vec!["ap1".into()],
                    reads_ms: vec![-500.0, -100.0, 4200.0],
                    end: None,
                    gap_ms: 4300.0,
                },
                ConnectionRow {
                    port: 40002,
                    servers: vec!["ap2".into()],
                    reads_ms: vec![-400.0],
                    end: Some((3700.0, "reset".into())),
                    gap_ms: 0.0,
                },
            ],
        };
        let svg = timeline.svg();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
        assert!(svg.contains(":40000 ap1") && svg.contains(":40002 ap2"));
        assert!(svg.contains("takeover") && svg.contains("failover of lb1"));
        assert!(svg.matches("<circle").count() >= 4);
    }
}
