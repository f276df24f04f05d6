package client

// Closing returns a channel closed once Close has begun (marked the client
// closed), for tests that need Close to be under way before they go on.
func (c *Client) Closing() <-chan struct{} { return c.done }
