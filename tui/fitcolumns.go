package tui

// optionalBelow: columns with a lower priority are dropped before any
// column is squeezed below its natural width.
const optionalBelow = 5

// fitColumns chooses the columns and their widths for a table of the given
// width (gutter excluded): drop the optional columns, lowest priority first,
// while the natural widths do not fit; then shrink the widest columns
// toward their minimum; then drop more columns by priority; spare room goes
// to the free-text columns.
func fitColumns(cols []column, width int) ([]column, []int) {
	keep := make([]bool, len(cols))
	for i := range keep {
		keep[i] = true
	}
	for {
		total, n, drop := 0, 0, -1
		for i, c := range cols {
			if !keep[i] {
				continue
			}
			total += c.width
			n++
			if c.priority < optionalBelow && (drop < 0 || c.priority < cols[drop].priority) {
				drop = i
			}
		}
		if total+max(n-1, 0) <= width || drop < 0 {
			break
		}
		keep[drop] = false
	}
	for {
		total, minTotal, n := 0, 0, 0
		for i, c := range cols {
			if keep[i] {
				total += c.width
				minTotal += c.min
				n++
			}
		}
		sep := max(n-1, 0)
		if minTotal+sep <= width || n <= 1 {
			return shrink(cols, keep, width-sep)
		}
		drop := -1
		for i, c := range cols {
			if keep[i] && (drop < 0 || c.priority < cols[drop].priority) {
				drop = i
			}
		}
		keep[drop] = false
	}
}

func shrink(cols []column, keep []bool, room int) ([]column, []int) {
	var out []column
	var widths []int
	total := 0
	for i, c := range cols {
		if keep[i] {
			out = append(out, c)
			widths = append(widths, c.width)
			total += c.width
		}
	}
	// Take one cell at a time from the column with the most to give.
	for total > room {
		best := -1
		for i, c := range out {
			if widths[i] > c.min && (best < 0 || widths[i]-c.min > widths[best]-out[best].min) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		widths[best]--
		total--
	}
	// Spare room goes to the columns that hold free text, in turn.
	for total < room && len(out) > 0 {
		grew := false
		for i, c := range out {
			if total < room && c.width >= 14 {
				widths[i]++
				total++
				grew = true
			}
		}
		if !grew {
			widths[len(widths)-1] += room - total
			total = room
		}
	}
	return out, widths
}
