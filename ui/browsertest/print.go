package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// PrintPDF prints what the tab shows as Chromium prints it to paper: A4,
// the page's print stylesheet, its own page size if it sets one.
func PrintPDF(ctx context.Context) ([]byte, error) {
	return chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground(), chromedp.PDFPreferCSSPageSize()))
}

// PrintScreenshot saves the tab's printed form in the folder that
// BROWSERTEST_SCREENSHOTS names, for a person to look at: name.pdf, and
// each page as name-print-N.png (pdftoppm, Debian's poppler-utils; when
// it is not installed only the PDF is written, and the test says so). It
// does nothing when the variable is not set.
func PrintScreenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(ScreenshotDirEnv)
	if dir == "" {
		return
	}
	pdf, err := PrintPDF(ctx)
	if err != nil {
		t.Fatalf("browsertest: print %s: %v", name, err)
	}
	file := filepath.Join(dir, name+".pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	tool, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Logf("browsertest: %s printed to %s; install poppler-utils (make deps) for its PNG", name, file)
		return
	}
	if out, err := exec.Command(tool, "-png", "-r", "72", file, filepath.Join(dir, name+"-print")).CombinedOutput(); err != nil {
		t.Fatalf("browsertest: pdftoppm %s: %v\n%s", name, err, out)
	}
}
