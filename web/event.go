package web

import (
	"context"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"baixa"
)

func reflectTypeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

type eventListQuery struct {
	After     string `query:"after" maxLength:"20" doc:"The cursor of the last event you processed; empty for the start of the feed"`
	Limit     int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
	AccountID string `query:"account_id" maxLength:"64"`
	ChargeID  string `query:"charge_id" maxLength:"64"`
}

type eventOutput struct {
	Body *baixa.Event
}

func (s *Server) registerEvents(api huma.API) {
	tags := []string{"Events"}
	huma.Register(api, huma.Operation{
		OperationID: "list-events", Method: http.MethodGet, Path: "/v1/events", Tags: tags, Summary: "Read the event feed",
		Description: "Events in feed order after the cursor 'after'. A reader that stores next_cursor and polls with it sees " +
			"every event exactly once, in order, even while events are being written concurrently. next_cursor is " +
			"returned even when the page is empty (it is then the cursor you sent).",
	}, func(ctx context.Context, in *eventListQuery) (*list[*baixa.Event], error) {
		es, err := s.Events.FindEvents(ctx, baixa.EventFilter{After: in.After, Limit: in.Limit, AccountID: in.AccountID, ChargeID: in.ChargeID})
		if err != nil {
			return nil, s.problem(ctx, err, "query")
		}
		out := &list[*baixa.Event]{}
		out.Body.Data, out.Body.NextCursor = es, in.After
		if len(es) > 0 {
			out.Body.NextCursor = es[len(es)-1].Cursor
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "get-event", Method: http.MethodGet, Path: "/v1/events/{id}", Tags: tags, Summary: "Get an event",
	}, func(ctx context.Context, in *idPath) (*eventOutput, error) {
		e, err := s.Events.FindEventByID(ctx, in.ID)
		if err != nil {
			return nil, s.problem(ctx, err, "path.id")
		}
		return &eventOutput{Body: e}, nil
	})
}
