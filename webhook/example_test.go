package webhook_test

import (
	"fmt"
	"time"

	"baixa/webhook"
)

// A receiver checks each request with the endpoint's secret before trusting
// it. The values are the Standard Webhooks specification's own example.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	id, timestamp := "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330"
	body := []byte(`{"test": 2432232314}`)
	signature := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	received := time.Unix(1614265330, 0).Add(2 * time.Second)

	fmt.Println(webhook.Verify(secret, id, timestamp, signature, body, received, 5*time.Minute))
	fmt.Println(webhook.Verify(secret, id, timestamp, signature, []byte(`{"test": 1}`), received, 5*time.Minute))
	fmt.Println(webhook.Verify(secret, id, timestamp, signature, body, received.Add(time.Hour), 5*time.Minute))
	// Output:
	// <nil>
	// webhook: no valid signature
	// webhook: timestamp outside the tolerance
}

func ExampleSign() {
	sig, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	fmt.Println(sig, err)
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= <nil>
}
