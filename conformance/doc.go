// Package conformance runs gatewise's shipped configs through the real gateways where their code can run here, and checks that they behave as the simulated plan says.
package conformance
