package audit

// File is what a FileSink needs of its open file, exported for the
// fault-injecting files of the external tests.
type File = file

// WrapFile replaces s's open file with wrap(it): tests inject faults
// (a Sync that blocks or fails) between the sink and the real file.
func WrapFile(s *FileSink, wrap func(File) File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f = wrap(s.f)
}

// Objects is the object-ID extraction, for the fuzz test that checks it
// against the strings.Split walk it replaced.
var Objects = objects
