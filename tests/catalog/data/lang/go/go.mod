// A go.mod with every directive the go command accepts.
module github.com/example/service

go 1.21

toolchain go1.21.5

require github.com/gorilla/mux v1.8.1

require (
	github.com/google/uuid v1.5.0
	golang.org/x/net v0.19.0 // indirect
	gopkg.in/yaml.v3 v3.0.1
	github.com/example/internal-lib v0.0.0-00010101000000-000000000000
	github.com/sirupsen/logrus v1.9.0
	"github.com/quoted/module" v1.0.0
	github.com/docker/docker v24.0.7+incompatible
)

exclude golang.org/x/net v0.17.0

replace github.com/example/internal-lib => ../internal-lib

replace (
	github.com/sirupsen/logrus v1.9.0 => github.com/sirupsen/logrus v1.9.3
	github.com/sirupsen/logrus => github.com/sirupsen/logrus v1.8.0
	golang.org/x/net => golang.org/x/net v0.20.0
)

retract v1.0.1 // published by mistake
