// Package docs holds no code: its test keeps the guides in this folder
// honest (docs/math.md and its translation docs/math.zh.md).
package docs

import (
	"flag"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The guides checked, English first: the second is its translation.
var guides = []string{"math.md", "math.zh.md"}

// The Example files the guides quote: every Example in them must be quoted.
var exampleFiles = []string{"../graph/example_math_test.go", "../optim/example_math_test.go"}

// -fix rewrites the line ranges of Go links that no longer match their
// declaration, and resolves the placeholders #decl (the declaration), #doc
// (its doc comment) and #all (both) of links being written:
//
//	go test ./docs -run TestMathGuide -args -fix
var fix = flag.Bool("fix", false, "rewrite stale line anchors of Go links in the guides")

var (
	linkRE   = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)
	identRE  = regexp.MustCompile("^`([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*)`$")
	linesRE  = regexp.MustCompile(`^L([0-9]+)(?:-L([0-9]+))?$`)
	outputRE = regexp.MustCompile(`^<!-- output: (\S+) (Example\w*) -->$`)
	codeRE   = regexp.MustCompile("`[^`]*`")
)

// TestMathGuide checks both guides:
//
//   - every relative link points at a file that exists; a link to a heading
//     (file.md#anchor or #anchor) at a heading that exists;
//   - a link to a Go file has a line anchor (#L10 or #L10-L20) and its text
//     is one code span naming a declaration of that file (`Dense`,
//     `ops.Dense`, `denseOp.SymDiff`), and the range is exactly that
//     declaration: its doc comment, the declaration, or both. Any line added
//     or removed above or inside the declaration breaks the link;
//   - each <!-- output: file Example --> marker is followed by a fenced block
//     equal to that Example's // Output: comment (go test checks the
//     comment against what the Example prints), and every Example of the
//     guides' Example files is quoted;
//   - the math renders on GitHub (see checkMath);
//   - math.zh.md has the sections of math.md and, section by section, the
//     same links, formulas and quoted outputs.
func TestMathGuide(t *testing.T) {
	var parsed []*guide
	for _, name := range guides {
		g, err := readGuide(name)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, g)
		changed := false
		for _, l := range g.links {
			if msg, fixed := checkLink(g, l); msg != "" {
				if *fix && fixed != "" {
					g.lines[l.line] = strings.Replace(g.lines[l.line], "("+l.target+")", "("+fixed+")", 1)
					changed = true
					t.Logf("%s:%d: %s → %s", name, l.line+1, l.target, fixed)
					continue
				}
				hint := ""
				if fixed != "" {
					hint = " (want " + fixed + "; go test ./docs -run TestMathGuide -args -fix rewrites it)"
				}
				t.Errorf("%s:%d: link [%s](%s): %s%s", name, l.line+1, l.text, l.target, msg, hint)
			}
		}
		if changed {
			if err := os.WriteFile(name, []byte(strings.Join(g.lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range checkMath(g) {
			t.Errorf("%s: %s", name, e)
		}
		for _, e := range checkOutputs(g) {
			t.Errorf("%s: %s", name, e)
		}
	}
	for _, e := range checkAllQuoted(parsed[0]) {
		t.Errorf("%s: %s", parsed[0].name, e)
	}
	for _, e := range checkTranslation(parsed[0], parsed[1]) {
		t.Errorf("%s against %s: %s", parsed[1].name, parsed[0].name, e)
	}
}

// A guide is a Markdown file read as lines, with what the checks need.
type guide struct {
	name     string
	lines    []string
	links    []link
	headings []heading
	slugs    map[string]bool
	// prose[i] is whether line i is text (not in a fenced block, not math).
	prose []bool
	// displayMath are the $$ blocks, each its lines joined by "\n", with
	// the line of its opening $$.
	displayMath []block
	outputs     []output
}

type link struct {
	line         int
	text, target string
}

type heading struct {
	line, level int
	text        string
}

type block struct {
	line int
	text string
}

type output struct {
	line          int
	file, example string
	text          string // the fenced block after the marker; "" if none
}

func readGuide(name string) (*guide, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	g := &guide{name: name, lines: strings.Split(string(b), "\n"), slugs: map[string]bool{}}
	g.prose = make([]bool, len(g.lines))
	inFence, inMath := false, false
	var mathStart int
	var mathLines []string
	seen := map[string]int{}
	for i, line := range g.lines {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			inFence = !inFence
			continue
		case inFence:
			continue
		case trimmed == "$$":
			if inMath {
				g.displayMath = append(g.displayMath, block{mathStart, strings.Join(mathLines, "\n")})
				mathLines = nil
			} else {
				mathStart = i
			}
			inMath = !inMath
			continue
		case inMath:
			mathLines = append(mathLines, line)
			continue
		}
		g.prose[i] = true
		if m := outputRE.FindStringSubmatch(trimmed); m != nil {
			g.outputs = append(g.outputs, output{line: i, file: m[1], example: m[2], text: fencedAfter(g.lines, i)})
		}
		if lvl := headingLevel(line); lvl > 0 {
			text := strings.TrimSpace(line[lvl:])
			g.headings = append(g.headings, heading{i, lvl, text})
			s := slug(text)
			if n := seen[s]; n > 0 {
				g.slugs[fmt.Sprintf("%s-%d", s, n)] = true
			} else {
				g.slugs[s] = true
			}
			seen[s]++
		}
		for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
			g.links = append(g.links, link{line: i, text: m[1], target: m[2]})
		}
	}
	if inFence || inMath {
		return nil, fmt.Errorf("%s: a fenced block or $$ block is not closed", name)
	}
	return g, nil
}

func headingLevel(line string) int {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n == len(line) || line[n] != ' ' {
		return 0
	}
	return n
}

// slug is GitHub's anchor of a heading: lower case, punctuation dropped
// (letters of any script, digits, '-' and '_' kept), spaces to hyphens.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(codeRE.ReplaceAllStringFunc(heading, func(s string) string { return strings.Trim(s, "`") })) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fencedAfter returns the body of the fenced block that starts on the
// first non-blank line after line i, or "".
func fencedAfter(lines []string, i int) string {
	j := i + 1
	for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
		j++
	}
	if j >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[j]), "```") {
		return ""
	}
	var body []string
	for k := j + 1; k < len(lines); k++ {
		if strings.HasPrefix(strings.TrimSpace(lines[k]), "```") {
			return strings.Join(body, "\n")
		}
		body = append(body, lines[k])
	}
	return ""
}

// checkLink returns what is wrong with a link ("" if nothing) and, for a Go
// link whose declaration was found, the target with the right range.
func checkLink(g *guide, l link) (msg, fixed string) {
	target := l.target
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return "", "" // not checked: the guides link outside only to papers and PyTorch
	}
	path, anchor, _ := strings.Cut(target, "#")
	if path == "" {
		if !g.slugs[anchor] {
			return "no heading #" + anchor + " in this file", ""
		}
		return "", ""
	}
	info, err := os.Stat(path)
	if err != nil {
		return "no such file", ""
	}
	switch {
	case info.IsDir():
		return "", ""
	case strings.HasSuffix(path, ".md"):
		if anchor == "" {
			return "", ""
		}
		other, err := readGuide(path)
		if err != nil {
			return err.Error(), ""
		}
		if !other.slugs[anchor] {
			return "no heading #" + anchor + " in " + path, ""
		}
		return "", ""
	case strings.HasSuffix(path, ".go"):
		return checkGoLink(path, anchor, l.text)
	}
	return "", ""
}

// checkGoLink checks a link to a Go file: see TestMathGuide.
func checkGoLink(path, anchor, text string) (msg, fixed string) {
	m := identRE.FindStringSubmatch(text)
	if m == nil {
		return "the text of a link to Go code must be one code span naming a declaration, as `ops.Dense` or `denseOp.SymDiff`", ""
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return err.Error(), ""
	}
	name := strings.Split(m[1], ".")
	if len(name) > 1 && (name[0] == f.Name.Name || name[0]+"_test" == f.Name.Name) {
		name = name[1:]
	}
	d, ok := findDecl(fset, f, name)
	if !ok {
		return fmt.Sprintf("%s declares no %s", path, strings.Join(name, ".")), ""
	}
	switch anchor { // placeholders for a link being written: -fix resolves them
	case "decl":
		return "placeholder #decl", path + "#" + d.declRange()
	case "all":
		if d.docLo == 0 {
			return "placeholder #all, but the declaration has no doc comment", path + "#" + d.declRange()
		}
		return "placeholder #all", path + "#" + anchorOf(d.docLo, d.hi)
	case "doc":
		if d.docLo == 0 {
			return "placeholder #doc, but the declaration has no doc comment", ""
		}
		return "placeholder #doc", path + "#" + anchorOf(d.docLo, d.docHi)
	}
	lo, hi, ok := lineRange(anchor)
	if !ok {
		return "a link to Go code needs a line anchor, #L10 or #L10-L20", path + "#" + d.declRange()
	}
	for _, r := range d.ranges() {
		if r == [2]int{lo, hi} {
			return "", ""
		}
	}
	return fmt.Sprintf("lines %d–%d are not the doc comment (%s) or the declaration (%s) of %s",
		lo, hi, d.docRange(), d.declRange(), strings.Join(name, ".")), path + "#" + d.closest(lo, hi)
}

func lineRange(anchor string) (lo, hi int, ok bool) {
	m := linesRE.FindStringSubmatch(anchor)
	if m == nil {
		return 0, 0, false
	}
	lo, _ = strconv.Atoi(m[1])
	hi = lo
	if m[2] != "" {
		hi, _ = strconv.Atoi(m[2])
	}
	return lo, hi, lo <= hi
}

// A decl is where a declaration lies: its doc comment (docLo = 0 if none)
// and the declaration itself.
type decl struct{ docLo, docHi, lo, hi int }

func anchorOf(lo, hi int) string {
	if lo == hi {
		return fmt.Sprintf("L%d", lo)
	}
	return fmt.Sprintf("L%d-L%d", lo, hi)
}

func (d decl) docRange() string {
	if d.docLo == 0 {
		return "none"
	}
	return anchorOf(d.docLo, d.docHi)
}

func (d decl) declRange() string { return anchorOf(d.lo, d.hi) }

// ranges are the three ranges a link may show: the declaration, its doc
// comment with it, its doc comment alone.
func (d decl) ranges() [][2]int {
	r := [][2]int{{d.lo, d.hi}}
	if d.docLo != 0 {
		r = append(r, [2]int{d.docLo, d.hi}, [2]int{d.docLo, d.docHi})
	}
	return r
}

// closest is the range of ranges whose length is nearest hi − lo: what a
// stale link most likely meant.
func (d decl) closest(lo, hi int) string {
	best := d.ranges()[0]
	for _, r := range d.ranges() {
		if abs((r[1]-r[0])-(hi-lo)) < abs((best[1]-best[0])-(hi-lo)) {
			best = r
		}
	}
	return anchorOf(best[0], best[1])
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// findDecl finds the top-level declaration name names in f: [X] a function,
// type, variable or constant; [T, M] the method M of type T.
func findDecl(fset *token.FileSet, f *ast.File, name []string) (decl, bool) {
	lines := func(doc *ast.CommentGroup, from, to token.Pos) decl {
		d := decl{lo: fset.Position(from).Line, hi: fset.Position(to).Line}
		if doc != nil {
			d.docLo, d.docHi = fset.Position(doc.Pos()).Line, fset.Position(doc.End()).Line
		}
		return d
	}
	if len(name) > 2 {
		return decl{}, false
	}
	for _, dl := range f.Decls {
		switch dl := dl.(type) {
		case *ast.FuncDecl:
			recv := ""
			if dl.Recv != nil && len(dl.Recv.List) == 1 {
				recv = baseType(dl.Recv.List[0].Type)
			}
			if (len(name) == 1 && recv == "" && dl.Name.Name == name[0]) ||
				(len(name) == 2 && recv == name[0] && dl.Name.Name == name[1]) {
				return lines(dl.Doc, dl.Pos(), dl.End()), true
			}
		case *ast.GenDecl:
			if len(name) != 1 {
				continue
			}
			for _, spec := range dl.Specs {
				var idents []*ast.Ident
				switch s := spec.(type) {
				case *ast.TypeSpec:
					idents = []*ast.Ident{s.Name}
				case *ast.ValueSpec:
					idents = s.Names
				}
				for _, id := range idents {
					if id.Name != name[0] {
						continue
					}
					if dl.Lparen.IsValid() { // one spec of a group: the spec and its own doc
						doc := dl.Doc
						switch s := spec.(type) {
						case *ast.TypeSpec:
							doc = s.Doc
						case *ast.ValueSpec:
							doc = s.Doc
						}
						return lines(doc, spec.Pos(), spec.End()), true
					}
					return lines(dl.Doc, dl.Pos(), dl.End()), true
				}
			}
		}
	}
	return decl{}, false
}

// baseType is the name of a receiver's type: T of T, *T, T[A] or *T[A].
func baseType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// mathSpan is a piece of math found in a guide: inline ($…$) or display.
type mathSpan struct {
	line    int
	text    string
	display bool
}

// inlineMath returns the $…$ spans of a prose line (code spans and HTML
// comments left out) and an error if its dollars do not pair up.
func inlineMath(line string) ([]string, error) {
	s := codeRE.ReplaceAllString(line, "")
	if strings.HasPrefix(strings.TrimSpace(s), "<!--") {
		return nil, nil
	}
	var spans []string
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			return spans, nil
		}
		j := strings.IndexByte(s[i+1:], '$')
		if j < 0 {
			return spans, fmt.Errorf("an unpaired $")
		}
		inner := s[i+1 : i+1+j]
		if inner == "" {
			return spans, fmt.Errorf("$$ inside a line (display math goes on lines of its own)")
		}
		before, after := lastRune(s[:i]), firstRune(s[i+2+j:])
		if isWord(before) || isWord(after) {
			return spans, fmt.Errorf("$%s$ touches a letter or digit outside it (put a space or punctuation around inline math)", inner)
		}
		spans = append(spans, inner)
		s = s[i+2+j:]
	}
}

func lastRune(s string) rune {
	r := []rune(s)
	if len(r) == 0 {
		return ' '
	}
	return r[len(r)-1]
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return ' '
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// checkMath checks that the math renders on GitHub, where Markdown sees it
// before MathJax does: display math is $$ on lines of its own around
// formulas of no blank line and no \\ (GitHub eats one backslash); no
// backslash before ASCII punctuation anywhere in math (\, \{ \| are Markdown
// escapes: write \lbrace, \Vert, \quad); no *, and no _ after punctuation or
// a space (either can open emphasis across spans); no < before a letter
// (an HTML tag); inline $…$ on one line, not padded with spaces inside,
// not touching a letter or digit outside; no | in the math of a table row.
func checkMath(g *guide) []string {
	var errs []string
	var spans []mathSpan
	for _, b := range g.displayMath {
		spans = append(spans, mathSpan{b.line, b.text, true})
		if strings.TrimSpace(b.text) == "" {
			errs = append(errs, fmt.Sprintf("%d: empty $$ block", b.line+1))
		}
		for _, l := range strings.Split(b.text, "\n") {
			if strings.TrimSpace(l) == "" {
				errs = append(errs, fmt.Sprintf("%d: a blank line inside a $$ block", b.line+1))
			}
		}
	}
	for i, line := range g.lines {
		if !g.prose[i] {
			continue
		}
		ss, err := inlineMath(line)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%d: %v", i+1, err))
		}
		for _, s := range ss {
			spans = append(spans, mathSpan{i, s, false})
			if strings.TrimSpace(s) != s {
				errs = append(errs, fmt.Sprintf("%d: $%s$ has spaces inside its dollars", i+1, s))
			}
			if strings.HasPrefix(strings.TrimSpace(line), "|") && strings.Contains(s, "|") {
				errs = append(errs, fmt.Sprintf("%d: $%s$ in a table row holds a | (use \\lvert, \\rvert)", i+1, s))
			}
		}
	}
	for _, s := range spans {
		r := []rune(s.text)
		for k, c := range r {
			prev, next := ' ', ' '
			if k > 0 {
				prev = r[k-1]
			}
			if k+1 < len(r) {
				next = r[k+1]
			}
			bad := ""
			switch {
			case c == '\\' && next < unicode.MaxASCII && (unicode.IsPunct(next) || unicode.IsSymbol(next)):
				bad = `\` + string(next) + " is a Markdown escape"
			case c == '*':
				bad = "* can open emphasis (write \\cdot or \\ast)"
			case c == '_' && (unicode.IsPunct(prev) || unicode.IsSymbol(prev) || unicode.IsSpace(prev)):
				bad = "_ after " + strconv.QuoteRune(prev) + " can open emphasis (subscript a letter or digit: \\hat x_i, not \\hat{x}_i)"
			case c == '<' && (unicode.IsLetter(next) || next == '/' || next == '!'):
				bad = "< before a letter reads as HTML (write \\lt or leave a space)"
			}
			if bad != "" {
				errs = append(errs, fmt.Sprintf("%d: %q: %s", s.line+1, s.text, bad))
				break
			}
		}
	}
	return errs
}

// checkOutputs checks every quoted output against its Example.
func checkOutputs(g *guide) []string {
	var errs []string
	for _, o := range g.outputs {
		want, err := exampleOutput(o.file, o.example)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%d: %v", o.line+1, err))
			continue
		}
		if o.text == "" {
			errs = append(errs, fmt.Sprintf("%d: no fenced block after the output marker of %s", o.line+1, o.example))
			continue
		}
		if got := strings.TrimSpace(o.text); got != want {
			errs = append(errs, fmt.Sprintf("%d: the quoted output of %s is\n%s\nbut its // Output: comment is\n%s", o.line+1, o.example, got, want))
		}
	}
	return errs
}

// examples caches the Examples of each file.
var examples = map[string][]*doc.Example{}

func fileExamples(file string) ([]*doc.Example, error) {
	if ex, ok := examples[file]; ok {
		return ex, nil
	}
	if !strings.HasSuffix(file, "_test.go") {
		return nil, fmt.Errorf("%s is not a test file", file)
	}
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	ex := doc.Examples(f)
	examples[file] = ex
	return ex, nil
}

// exampleOutput returns the // Output: comment of the named Example of
// file, trimmed as go test trims it, or an error if it has none: an
// Example without one is compiled but not run.
func exampleOutput(file, name string) (string, error) {
	ex, err := fileExamples(file)
	if err != nil {
		return "", err
	}
	for _, e := range ex {
		if "Example"+e.Name == name || (e.Name == "" && name == "Example") {
			if e.Output == "" || e.Unordered {
				return "", fmt.Errorf("%s in %s has no ordered // Output: comment, so go test does not check it", name, file)
			}
			return strings.TrimSpace(e.Output), nil
		}
	}
	return "", fmt.Errorf("%s has no %s", file, name)
}

// checkAllQuoted checks that every Example of exampleFiles is quoted.
func checkAllQuoted(g *guide) []string {
	var errs []string
	for _, file := range exampleFiles {
		ex, err := fileExamples(file)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, e := range ex {
			if !slices.ContainsFunc(g.outputs, func(o output) bool { return o.file == file && o.example == "Example"+e.Name }) {
				errs = append(errs, fmt.Sprintf("Example%s of %s is not quoted", e.Name, file))
			}
		}
	}
	return errs
}

// checkTranslation compares a translation with the original section by
// section: the same headings' levels, and in each section the same links
// (text and target), display formulas, inline formulas and quoted outputs,
// each as a multiset (a sentence may be turned around in translation).
func checkTranslation(en, zh *guide) []string {
	var errs []string
	if len(en.headings) != len(zh.headings) {
		return []string{fmt.Sprintf("%d headings, want %d", len(zh.headings), len(en.headings))}
	}
	for i := range en.headings {
		if en.headings[i].level != zh.headings[i].level {
			errs = append(errs, fmt.Sprintf("heading %d (%q) is of level %d, want %d as %q",
				i+1, zh.headings[i].text, zh.headings[i].level, en.headings[i].level, en.headings[i].text))
		}
	}
	a, b := sections(en), sections(zh)
	for i := range a {
		for _, what := range []string{"links", "display math", "inline math", "outputs"} {
			x, y := a[i][what], b[i][what]
			slices.Sort(x)
			slices.Sort(y)
			if !slices.Equal(x, y) {
				errs = append(errs, fmt.Sprintf("section %d (%q): %s differ:\n  %s has %q\n  %s has %q",
					i, headingText(zh, i), what, en.name, minus(x, y), zh.name, minus(y, x)))
			}
		}
	}
	return errs
}

func headingText(g *guide, section int) string {
	if section == 0 {
		return "before the first heading"
	}
	return g.headings[section-1].text
}

// sections returns, for the text before the first heading and then for each
// heading's section, what checkTranslation compares.
func sections(g *guide) []map[string][]string {
	out := make([]map[string][]string, len(g.headings)+1)
	for i := range out {
		out[i] = map[string][]string{}
	}
	sectionOf := func(line int) int {
		s := 0
		for k, h := range g.headings {
			if h.line <= line {
				s = k + 1
			}
		}
		return s
	}
	for _, l := range g.links {
		if slices.Contains(guides, l.target) {
			continue // each guide links to the other
		}
		s := sectionOf(l.line)
		out[s]["links"] = append(out[s]["links"], l.text+" → "+l.target)
	}
	for _, b := range g.displayMath {
		s := sectionOf(b.line)
		out[s]["display math"] = append(out[s]["display math"], b.text)
	}
	for i, line := range g.lines {
		if !g.prose[i] {
			continue
		}
		ss, _ := inlineMath(line)
		s := sectionOf(i)
		out[s]["inline math"] = append(out[s]["inline math"], ss...)
	}
	for _, o := range g.outputs {
		s := sectionOf(o.line)
		out[s]["outputs"] = append(out[s]["outputs"], o.file+" "+o.example+"\n"+o.text)
	}
	return out
}

// minus returns the elements of a (sorted) not matched in b (sorted).
func minus(a, b []string) []string {
	var out []string
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			j++
			continue
		}
		out = append(out, x)
	}
	return out
}

// TestSlug pins the heading anchors the guides' links rely on.
func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Softmax overflows": "softmax-overflows",
		"A later Reshape can reshape an op's output in place": "a-later-reshape-can-reshape-an-ops-output-in-place",
		"3. Losses: from logits to a number":                  "3-losses-from-logits-to-a-number",
		"3. 损失：从 logits 到一个数":                                 "3-损失从-logits-到一个数",
		"`Conv2D` as a matrix product":                        "conv2d-as-a-matrix-product",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
