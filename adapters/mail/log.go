package mail

import (
	"context"
	"log/slog"
	"regexp"
	"strconv"

	"github.com/lenticular/lenticular/modules/notify"
)

var _ notify.Sender = (*LogSender)(nil)

// LogSender is the development mailer (MAILER=log, the default): it delivers
// nothing and writes each message to the log at Info instead, with every link
// of the text part as an attribute of its own (link, link2, ...) so a
// developer can open the verification or reset link from the console.
//
// The log lines hold live tokens: it is not a mailer for a deployment.
type LogSender struct {
	logger *slog.Logger
}

// NewLogSender returns a LogSender writing to logger (slog.Default() if nil).
func NewLogSender(logger *slog.Logger) *LogSender {
	if logger == nil {
		logger = slog.Default()
	}
	return &LogSender{logger: logger}
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"']+`)

// Send logs m and never fails.
func (s *LogSender) Send(ctx context.Context, m notify.Message) error {
	attrs := []slog.Attr{
		slog.String("to", m.To),
		slog.String("from", m.From),
		slog.String("subject", m.Subject),
		slog.String("message_id", m.ID),
	}
	for i, link := range linkPattern.FindAllString(m.Text, -1) {
		key := "link"
		if i > 0 {
			key += strconv.Itoa(i + 1)
		}
		attrs = append(attrs, slog.String(key, link))
	}
	attrs = append(attrs, slog.String("text", m.Text))
	s.logger.LogAttrs(ctx, slog.LevelInfo, "email (MAILER=log: logged, not sent)", attrs...)
	return nil
}
