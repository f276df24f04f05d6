// The small step charts of the side panels ("brackets remaining",
// "provisions agreed"): a count against revisions, drawn as steps.

const NS = 'http://www.w3.org/2000/svg';
const W = 280;
const PAD = 4;

/**
 * stepPath is the SVG path of points [{rev, n}] (in revision order) in a
 * W×height box: a step at each point, held to maxRev; counts up to maxN.
 * Returns {line, area} (area closes the line down to the axis).
 */
export function stepPath(points, maxRev, maxN, height) {
  const x = (r) => PAD + (r / maxRev) * (W - 2 * PAD);
  const y = (n) => height - PAD - (n / maxN) * (height - 2 * PAD);
  let line = `M${x(points[0].rev)},${y(points[0].n)}`;
  for (let i = 1; i < points.length; i++) line += ` H${x(points[i].rev)} V${y(points[i].n)}`;
  line += ` H${x(maxRev)}`;
  return { line, area: line + ` V${height - PAD} H${x(points[0].rev)} Z` };
}

/** stepChart is the chart of stepPath as an svg element (as wide as the panel), named label for screen readers. */
export function stepChart({ points, maxRev, maxN, height, label, area = false }) {
  const p = stepPath(points, maxRev, maxN, height);
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'none'); // as wide as the panel, on a tablet too
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const path = (d, cls) => { const e = document.createElementNS(NS, 'path'); e.setAttribute('d', d); e.setAttribute('class', cls); return e; };
  if (area) svg.append(path(p.area, 'curve-area'));
  svg.append(path(p.line, 'curve-line'));
  return svg;
}
