package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// health answers 200 with the version and database kind while the database
// answers, 503 otherwise, so a load balancer can take the process out.
func (s *Server) health(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	body := gin.H{"status": "ok", "version": s.cfg.Version, "database": s.store.Kind()}
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "health: database unreachable", "error", err)
		body["status"] = "unavailable"
		status = http.StatusServiceUnavailable
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(status, body)
}
