// Package settle matches movements to charges and applies the charge state
// machine: movements in, events out, in one transaction per batch.
package settle

import (
	"fmt"

	"baixa"
)

// Outcome is what applying one movement to a charge does.
type Outcome struct {
	Charge baixa.Charge // the charge afterwards; equal to the input unless changed
	Result baixa.MovementResult
	Reason string
	Events []baixa.EventType
}

func closed(s baixa.ChargeStatus) bool {
	return s == baixa.StatusPaid || s == baixa.StatusWrittenOff || s == baixa.StatusCancelled
}

// covered is how much of the face amount payments have settled so far:
// money paid plus discounts and rebates granted, less interest and fines.
func covered(c *baixa.Charge) baixa.Amount {
	return c.PaidAmount + c.DiscountAmount + c.RebateAmount - c.InterestAmount - c.FineAmount
}

// Apply applies movement m to charge c. It is a pure function: the state
// machine of a charge.
//
//	open, overdue, partially_paid, declined --paid--> paid | partially_paid (payments accumulate)
//	                                        --written_off--> written_off
//	                                        --cancelled--> cancelled
//	                                        --declined|rejected--> declined
//	open --overdue--> overdue;  overdue --due_date_changed--> open
//	written_off | cancelled --paid--> paid, result conflict (CNAB 17, "liquidação após baixa")
//	paid --paid--> unchanged, conflict (a second payment); the same amount and date again is a duplicate
//	paid --written_off|cancelled--> unchanged, conflict
//	any --status_changed--> the provider's status or payment link, when either is new and the
//	                        report is not older than the charge's latest (callbacks settled out of order)
//
// Reports that the charge already reflects, or that a closed charge makes
// stale, are duplicates.
func Apply(c baixa.Charge, m *baixa.Movement) Outcome {
	out := Outcome{Charge: c, Result: baixa.ResultApplied}
	n := &out.Charge
	dup := func(reason string) Outcome {
		return Outcome{Charge: c, Result: baixa.ResultDuplicate, Reason: reason}
	}
	conflict := func(reason string) Outcome {
		o := Outcome{Charge: c, Result: baixa.ResultConflict, Reason: reason, Events: []baixa.EventType{baixa.EventChargeConflict}}
		o.Charge.Conflict = reason
		return o
	}
	switch m.Kind {
	case baixa.MovePaid:
		if c.Status == baixa.StatusPaid {
			if m.PaidAmount == c.PaidAmount && m.PaidOn == c.PaidOn {
				return dup("charge already paid with the same amount and date")
			}
			return conflict(fmt.Sprintf("%s (%s on %s) after being paid", baixa.ReasonPaidAgain, m.PaidAmount, m.PaidOn))
		}
		n.PaidAmount += m.PaidAmount
		n.InterestAmount += m.InterestAmount
		n.FineAmount += m.FineAmount
		n.DiscountAmount += m.DiscountAmount
		n.RebateAmount += m.RebateAmount
		n.FeeAmount += m.FeeAmount
		n.CreditedAmount += m.CreditedAmount
		if !m.PaidOn.IsZero() {
			n.PaidOn = m.PaidOn
		}
		if !m.CreditedOn.IsZero() {
			n.CreditedOn = m.CreditedOn
		}
		full := m.PaidAmount == 0 || covered(n) >= c.Amount
		if full {
			n.Status = baixa.StatusPaid
			out.Events = []baixa.EventType{baixa.EventChargePaid}
			if m.PaidAmount == 0 {
				out.Reason = baixa.ReasonPaidWithoutAmount
			}
		} else {
			n.Status = baixa.StatusPartiallyPaid
			out.Events = []baixa.EventType{baixa.EventChargePartiallyPaid}
		}
		if c.Status == baixa.StatusWrittenOff || c.Status == baixa.StatusCancelled {
			out.Result = baixa.ResultConflict
			out.Reason = fmt.Sprintf("%s %s", baixa.ReasonPaidAfterBeing, c.Status)
			n.Conflict = out.Reason
			out.Events = append(out.Events, baixa.EventChargeConflict)
		}
	case baixa.MoveWrittenOff, baixa.MoveCancelled:
		target, ev := baixa.StatusWrittenOff, baixa.EventChargeWrittenOff
		if m.Kind == baixa.MoveCancelled {
			target, ev = baixa.StatusCancelled, baixa.EventChargeCancelled
		}
		switch c.Status {
		case baixa.StatusPaid:
			return conflict(fmt.Sprintf("%s after being paid", m.Kind))
		case target, baixa.StatusCancelled:
			return dup("charge is already " + string(c.Status))
		}
		n.Status = target
		out.Events = []baixa.EventType{ev}
	case baixa.MoveDeclined, baixa.MoveRejected:
		if closed(c.Status) {
			return dup("charge is already " + string(c.Status))
		}
		if c.Status == baixa.StatusDeclined && m.ProviderStatus == c.ProviderStatus && m.Note == "" {
			return dup("charge is already declined")
		}
		n.Status = baixa.StatusDeclined
		out.Events = []baixa.EventType{baixa.EventChargeDeclined}
		if m.Kind == baixa.MoveRejected {
			out.Events = []baixa.EventType{baixa.EventChargeRejected}
		}
	case baixa.MoveOverdue:
		if c.Status != baixa.StatusOpen {
			return dup("charge is " + string(c.Status))
		}
		n.Status = baixa.StatusOverdue
		out.Events = []baixa.EventType{baixa.EventChargeOverdue}
	case baixa.MoveDueDateChanged:
		if closed(c.Status) {
			return dup("charge is already " + string(c.Status))
		}
		if m.DueDate.IsZero() || m.DueDate == c.DueDate {
			return dup("due date unchanged")
		}
		n.DueDate = m.DueDate
		if c.Status == baixa.StatusOverdue {
			n.Status = baixa.StatusOpen
		}
		out.Events = []baixa.EventType{baixa.EventChargeDueDateChanged}
	case baixa.MoveRegistered:
		if closed(c.Status) {
			return dup("charge is already " + string(c.Status))
		}
		if c.ProviderStatus != "" && (m.ProviderStatus == "" || m.ProviderStatus == c.ProviderStatus) && c.Status != baixa.StatusDeclined {
			return dup("charge already registered")
		}
		if c.Status == baixa.StatusDeclined {
			n.Status = baixa.StatusOpen
		}
		if m.ProviderStatus == "" {
			n.ProviderStatus = "registered"
		}
		out.Events = []baixa.EventType{baixa.EventChargeRegistered}
	case baixa.MoveStatusChanged:
		if !m.OccurredAt.IsZero() && m.OccurredAt.Before(c.ReportedAt) {
			return dup("a status reported before the charge's latest report")
		}
		if (m.ProviderStatus == "" || m.ProviderStatus == c.ProviderStatus) && (m.PaymentLink == "" || m.PaymentLink == c.PaymentLink) {
			return dup("provider status unchanged")
		}
		out.Events = []baixa.EventType{baixa.EventChargeStatusChanged}
	default:
		return Outcome{Charge: c, Result: baixa.ResultConflict, Reason: fmt.Sprintf("unknown movement kind %q", m.Kind),
			Events: []baixa.EventType{baixa.EventChargeConflict}}
	}
	if m.ProviderStatus != "" {
		n.ProviderStatus = m.ProviderStatus
	}
	if m.PaymentLink != "" {
		n.PaymentLink = m.PaymentLink
	}
	if m.OccurredAt.After(n.ReportedAt) {
		n.ReportedAt = m.OccurredAt
	}
	return out
}
