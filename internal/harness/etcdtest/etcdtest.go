// Package etcdtest starts a real etcd cluster inside a test process — etcd's own server,
// embedded, its members on 127.0.0.1 — for the tests of the etcd store and of gateways sharing
// one. Start one per test package in TestMain: a member takes about a second to start.
package etcdtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Cluster is a running cluster.
type Cluster struct {
	// Endpoints are the members' client addresses, host:port.
	Endpoints []string
	members   []*embed.Etcd
	configs   []*embed.Config // each member's, for Restart
}

// Start starts n members, keeping their data under dir, and returns once they serve.
func Start(dir string, n int) (*Cluster, error) {
	peers, clients := make([]string, n), make([]string, n)
	for i := range n {
		var err error
		if peers[i], err = freeAddr(); err != nil {
			return nil, err
		}
		if clients[i], err = freeAddr(); err != nil {
			return nil, err
		}
	}
	var initial []string
	for i := range n {
		initial = append(initial, fmt.Sprintf("m%d=http://%s", i, peers[i]))
	}
	c := &Cluster{Endpoints: clients}
	for i := range n {
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		peer, client := mustURL(peers[i]), mustURL(clients[i])
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.InitialCluster = strings.Join(initial, ",")
		cfg.InitialClusterToken = "assist-test"
		cfg.LogLevel = "fatal" // a member says nothing but why it cannot start; Start returns that
		c.configs = append(c.configs, cfg)
		c.members = append(c.members, nil)
		if err := c.start(i); err != nil {
			c.Close()
			return nil, err
		}
	}
	for i := range c.members {
		if err := c.ready(i); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.commits(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// commits waits until the cluster has committed a first write of a client: members that are
// ready may still be slow to commit on a loaded machine (the first write took over the store's
// 5 s once), and a test's first operation should not be the one that waits for it.
func (c *Cluster) commits() error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints, DialTimeout: 60 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("etcd client: %w", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "/etcdtest/started", time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("etcd cluster did not commit a first write within 60s: %w", err)
	}
	return nil
}

func (c *Cluster) start(i int) error {
	e, err := embed.StartEtcd(c.configs[i])
	if err != nil {
		return fmt.Errorf("start etcd member %s: %w", c.configs[i].Name, err)
	}
	c.members[i] = e
	return nil
}

// ready waits until member i serves.
func (c *Cluster) ready(i int) error {
	e := c.members[i]
	select {
	case <-e.Server.ReadyNotify():
		return nil
	case err := <-e.Err():
		return fmt.Errorf("etcd member %s: %w", c.configs[i].Name, err)
	case <-time.After(60 * time.Second):
		return fmt.Errorf("etcd member %s did not become ready within 60s", c.configs[i].Name)
	}
}

// Restart starts the stopped members again on their data and addresses, and returns once they
// serve (which needs a quorum of them up).
func (c *Cluster) Restart(members ...int) error {
	for _, i := range members {
		if c.members[i] != nil {
			continue
		}
		if err := c.start(i); err != nil {
			return err
		}
	}
	for _, i := range members {
		if err := c.ready(i); err != nil {
			return err
		}
	}
	return nil
}

// Kill stops member i as a crash would: it leaves the cluster without handing on its
// leadership, and its connections close.
func (c *Cluster) Kill(i int) {
	if c.members[i] != nil {
		c.members[i].Server.HardStop()
		c.Stop(i)
	}
}

// Leader is the index of the member that leads, as the first member up knows it; -1 if none.
func (c *Cluster) Leader() int {
	for _, e := range c.members {
		if e == nil {
			continue
		}
		lead := e.Server.Leader()
		for i, m := range c.members {
			if m != nil && m.Server.MemberID() == lead {
				return i
			}
		}
		return -1
	}
	return -1
}

// Stop stops member i, as a crash of its machine would for its clients: its connections close
// and its address answers nothing.
func (c *Cluster) Stop(i int) {
	if c.members[i] != nil {
		c.members[i].Close()
		c.members[i] = nil
	}
}

// Close stops every member.
func (c *Cluster) Close() {
	for i := range c.members {
		c.Stop(i)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func mustURL(hostport string) url.URL {
	return url.URL{Scheme: "http", Host: hostport}
}
