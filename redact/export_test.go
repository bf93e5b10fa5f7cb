package redact

// AssignmentSpans returns the value spans the secret-assignment rule finds
// in s, by its byte loop (what the scanners run) and by the regexp that
// documents it, for the differential test.
func AssignmentSpans(s string) (loop, re [][2]int) {
	var d *Detector
	for _, x := range defaultDetectors {
		if x.assignments {
			d = x
		}
	}
	for _, sp := range d.findAssignments(s, nil) {
		loop = append(loop, [2]int{sp.start, sp.end})
	}
	for pos := 0; pos < len(s); {
		m := d.Pattern.FindStringSubmatchIndex(s[pos:])
		if m == nil {
			break
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += pos
			}
		}
		st, en, ok := d.pick(s, m)
		if ok && st < en && d.validSpan(s[st:en]) {
			re = append(re, [2]int{st, en})
			pos = m[1]
			continue
		}
		pos = max(m[3], m[0]+1)
	}
	return loop, re
}

// KnownKeys returns how many keys r's SensitiveKey cache holds, and its bound.
func KnownKeys(r *Redactor) (n, limit int) {
	if m := r.known.Load(); m != nil {
		n = len(*m)
	}
	return n, maxCachedKeys
}
