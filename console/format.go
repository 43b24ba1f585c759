package console

import (
	"strconv"
	"strings"
	"time"

	"baixa"
)

// money writes an amount as Brazilian reais: R$ 1.234,56.
func money(a baixa.Amount) string {
	neg := a < 0
	if neg {
		a = -a
	}
	units, cents := int64(a)/100, int64(a)%100
	digits := strconv.FormatInt(units, 10)
	var b strings.Builder
	b.WriteString("R$ ")
	if neg {
		b.WriteString("-")
	}
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	b.WriteByte(',')
	if cents < 10 {
		b.WriteByte('0')
	}
	b.WriteString(strconv.FormatInt(cents, 10))
	return b.String()
}

// day writes a civil date as dd/mm/aaaa; "" for none.
func day(d baixa.Date) string {
	if d.IsZero() {
		return ""
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format("02/01/2006")
}

// when writes an instant in America/Sao_Paulo: dd/mm/aaaa hh:mm:ss.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(baixa.SaoPaulo).Format("02/01/2006 15:04:05")
}

// ptBR translates the console's words; English is the key. What is not
// here shows in English (ids, providers' own words).
var ptBR = map[string]string{
	"Overview": "Visão geral", "Charges": "Cobranças", "Attention": "Pendências", "Webhooks": "Webhooks",
	"Connections": "Conexões", "Imports": "Importações", "Jobs": "Filas", "Sign out": "Sair", "Sign in": "Entrar",
	"API key": "Chave de API", "Signed in as": "Conectado como",
	"Sign in with an API key of baixa. The key stays on the server; the browser keeps only a sealed session.": "Entre com uma chave de API do baixa. A chave fica no servidor; o navegador guarda só uma sessão selada.",
	"Wrong or revoked API key.":                                   "Chave de API errada ou revogada.",
	"Too many attempts: wait a minute.":                           "Tentativas demais: espere um minuto.",
	"Your session ended: sign in again.":                          "Sua sessão terminou: entre de novo.",
	"The form expired or did not come from this page: try again.": "O formulário expirou ou não veio desta página: tente de novo.",
	"Today's payments":                                            "Pagamentos de hoje", "payments": "pagamentos", "Provider": "Provedor", "Count": "Quantidade",
	"Amount": "Valor", "Total": "Total", "Waiting for a person": "Aguardando alguém", "Deliveries failing": "Entregas falhando",
	"Deliveries dead": "Entregas esgotadas", "Connections in error": "Conexões com erro", "None": "Nenhuma",
	"Status": "Situação", "Kind": "Tipo", "Account": "Conta", "Reference": "Referência", "Due from": "Vencimento de",
	"Due to": "Vencimento até", "Filter": "Filtrar", "Next page": "Próxima página", "First page": "Primeira página",
	"Due date": "Vencimento", "Paid": "Pago", "Paid on": "Pago em", "Payer": "Pagador", "References": "Referências",
	"Timeline": "Linha do tempo", "Event": "Evento", "When": "Quando", "What the provider reported": "O que o provedor informou",
	"Document": "Documento", "View the document as received": "Ver o documento como recebido", "Result": "Resultado",
	"Reason": "Motivo", "Write off": "Baixar", "Cancel charge": "Cancelar cobrança", "Record a payment": "Registrar pagamento",
	"Date paid": "Data do pagamento", "Note": "Observação", "Link to charge": "Vincular à cobrança", "Charge id": "Id da cobrança",
	"Dismiss": "Descartar", "Refunded": "Devolvido", "Kept as credit": "Mantido como crédito", "Reopen": "Reabrir",
	"Open": "Abertas", "Resolved": "Resolvidas", "All": "Todas", "Decision": "Decisão", "By": "Por",
	"Nothing waits for a person.": "Nada aguarda alguém.", "Movement": "Movimento", "Why": "Por quê",
	"Endpoints": "Endpoints", "URL": "URL", "Enabled": "Ativo", "Disabled": "Desativado", "Enable": "Ativar", "Disable": "Desativar",
	"Rotate secret": "Trocar segredo", "Replay since": "Reenviar desde", "Deliveries": "Entregas", "Attempts": "Tentativas",
	"Response": "Resposta", "Retry": "Tentar de novo", "Next attempt": "Próxima tentativa",
	"New signing secret (shown this once; the previous one keeps signing for a while):": "Novo segredo de assinatura (mostrado só agora; o anterior continua assinando por um tempo):",
	"Last run": "Última execução", "Next run": "Próxima execução", "Last error": "Último erro", "Certificate expires": "Certificado expira",
	"Run now": "Executar agora", "Name": "Nome", "Every": "A cada", "Size": "Tamanho", "Received": "Recebido",
	"Applied": "Aplicados", "Duplicates": "Duplicados", "Unmatched": "Sem cobrança", "Conflicts": "Conflitos", "Report": "Relatório",
	"Error": "Erro", "Done.": "Feito.", "Language": "Idioma", "Back": "Voltar", "Details": "Detalhes", "Settled": "Conciliado",
	"Description": "Descrição", "Created": "Criada", "Conflict": "Conflito", "Provider's status": "Situação no provedor",
	"Content": "Conteúdo", "first 64 KiB": "primeiros 64 KiB", "Skip to content": "Pular para o conteúdo", "Search": "Buscar",
	"any": "qualquer", "Run queued.": "Execução enfiletada.", "Queued again.": "Enfileirada de novo.", "History": "Histórico",
	"Failing since": "Falhando desde", "Payment link": "Link de pagamento", "Sequence": "Sequência", "Movements": "Movimentos",
	"Replayed": "Reenviadas", "Replay": "Reenviar", "Test": "Testar", "disabled": "desativado",
	// statuses and kinds
	"open": "em aberto", "paid": "paga", "partially_paid": "paga em parte", "written_off": "baixada", "cancelled": "cancelada",
	"declined": "recusada", "overdue": "vencida", "boleto": "boleto", "invoice": "fatura", "installment": "parcela",
	"credit_proposal": "proposta de crédito",
	"unmatched":       "sem cobrança", "paid_twice": "paga em duplicidade", "paid_after_write_off": "paga após a baixa",
	"conflict": "conflito", "flagged": "sinalizada",
	"linked": "vinculado", "dismissed": "descartado", "refunded": "devolvido", "kept_as_credit": "mantido como crédito",
	"pending": "pendente", "failing": "falhando", "succeeded": "entregue", "dead": "esgotada", "settled": "conciliado", "failed": "falhou",
	"applied": "aplicado", "duplicate": "duplicado",
}

// translate gives s in lang (pt-BR unless "en").
func translate(lang, s string) string {
	if lang == "en" {
		return s
	}
	if t, ok := ptBR[s]; ok {
		return t
	}
	return s
}
