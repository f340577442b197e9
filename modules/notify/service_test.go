package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lenticular/lenticular/modules/notify"
)

// recordingSender keeps what it is given and answers with err.
type recordingSender struct {
	sent []notify.Message
	err  error
}

func (s *recordingSender) Send(_ context.Context, m notify.Message) error {
	s.sent = append(s.sent, m)
	return s.err
}

func TestDeliverRendersAndSends(t *testing.T) {
	t.Parallel()
	s := &recordingSender{}
	d := notify.NewDeliverer(newRenderer(t), s)
	err := d.Deliver(context.Background(), notify.Email{
		To: "ada@example.com", Template: notify.TemplateVerifyEmail, Data: map[string]string{"token": "t0k"},
	}, "job-42")
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if len(s.sent) != 1 {
		t.Fatalf("sent %d messages, want 1", len(s.sent))
	}
	m := s.sent[0]
	if m.ID != "job-42" || m.To != "ada@example.com" || m.From != testFrom {
		t.Errorf("message = ID %q To %q From %q", m.ID, m.To, m.From)
	}
	if !strings.Contains(m.Text, testFrontend+"/verify-email?token=t0k") {
		t.Errorf("text part lacks the link:\n%s", m.Text)
	}
}

func TestDeliverRenderErrorIsPermanent(t *testing.T) {
	t.Parallel()
	s := &recordingSender{}
	d := notify.NewDeliverer(newRenderer(t), s)

	err := d.Deliver(context.Background(), notify.Email{To: "a@example.com", Template: "nope"}, "1")
	if !errors.Is(err, notify.ErrPermanent) || !errors.Is(err, notify.ErrUnknownTemplate) {
		t.Errorf("unknown template: err = %v, want ErrPermanent and ErrUnknownTemplate", err)
	}
	err = d.Deliver(context.Background(), notify.Email{To: "a@example.com", Template: notify.TemplateVerifyEmail}, "2")
	if !errors.Is(err, notify.ErrPermanent) || !errors.Is(err, notify.ErrMissingData) {
		t.Errorf("missing token: err = %v, want ErrPermanent and ErrMissingData", err)
	}
	if len(s.sent) != 0 {
		t.Errorf("a message was sent despite the render error")
	}
}

func TestDeliverPassesSendErrorsThrough(t *testing.T) {
	t.Parallel()
	retryable := errors.New("connection refused")
	for _, sendErr := range []error{retryable, notify.ErrPermanent} {
		d := notify.NewDeliverer(newRenderer(t), &recordingSender{err: sendErr})
		err := d.Deliver(context.Background(), notify.Email{To: "a@example.com", Template: notify.TemplatePasswordChanged}, "3")
		if !errors.Is(err, sendErr) {
			t.Errorf("err = %v, want it to wrap %v", err, sendErr)
		}
		if sendErr == retryable && errors.Is(err, notify.ErrPermanent) {
			t.Errorf("a retryable send error became permanent: %v", err)
		}
	}
}
