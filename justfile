# Learn Apache Kafka with Rust: `just --list` shows every recipe.
# Lessons run on an embedded Kafka cluster unless KAFKA_BOOTSTRAP_SERVERS is set.

# List the recipes
default:
    @just --list

# Is this machine ready for the course? (Rust version, C compiler, make, disk, crates; runs before the course can build)
doctor:
    cargo run --quiet -p course-doctor

# Run lesson N (the same number as its chapter), e.g. `just lesson 3`
lesson N:
    cargo run --release --quiet -- lesson {{N}}

# Lesson 1: brokers, topics, partitions and replicas
lesson-1: (lesson "1")

# Lesson 2: the producer, serialization and keys
lesson-2: (lesson "2")

# Lesson 3: acks, what "delivered" means
lesson-3: (lesson "3")

# Lesson 4: the consumer, groups and offsets
lesson-4: (lesson "4")

# Lesson 5: independence, a durable buffer
lesson-5: (lesson "5")

# Lesson 6: strict order within one topic
lesson-6: (lesson "6")

# Lesson 7: order across topics, status events
lesson-7: (lesson "7")

# Run every lesson, in order
lessons:
    cargo run --release --quiet -- lessons

# Run all the tests (the same command as the README and CI)
test:
    cargo test

# Build the book into book/build, English, and book/build/fr, French (mdBook as a library: nothing to install)
book:
    cargo run --release --quiet -p kafka-course-book

# Serve the book at http://127.0.0.1:3000 with Run and Check buttons, building it if needed (`just serve --port 3001`)
serve *ARGS:
    cargo run --release --quiet -- serve {{ARGS}}

# The embedded 3-broker cluster alone, for your own programs and kcat: prints its address, stays up until Ctrl-C
playground:
    cargo run --release --quiet -- cluster

# Start the real 3-broker cluster (Docker), on this machine only unless KAFKA_HOST=<its IP> is set
cluster-up:
    docker compose up -d --wait
    @if [ -n "${KAFKA_HOST:-}" ]; then \
        echo "Kafka is up on $KAFKA_HOST:9092, $KAFKA_HOST:9093, $KAFKA_HOST:9094, open to that network."; \
        echo "It has no authentication: anyone on that network can read and delete its topics."; \
        echo "Run a lesson on it, from any machine there: KAFKA_BOOTSTRAP_SERVERS=$KAFKA_HOST:9092 just lesson-1"; \
    else \
        echo "Kafka is up on localhost:9092, localhost:9093, localhost:9094 (127.0.0.1: this machine only)."; \
        echo "Run a lesson on it: KAFKA_BOOTSTRAP_SERVERS=localhost:9092 just lesson-1"; \
    fi

# Stop the real cluster and delete its data
cluster-down:
    docker compose down --volumes
    @echo "Kafka is stopped; its topics and groups are gone."

# Delete the lessons' topics and groups from the real cluster (`--dry-run`: only list them)
clean-cluster *ARGS:
    cargo run --release --quiet -- clean {{ARGS}}

# Time each lesson against a measured floor, and lesson 1 run from its page, then the exercises' edit-to-verdict loop
bench:
    cargo build --release --quiet -p kafka-course-book --bin serve-book
    cargo run --release --quiet -- bench
    cargo run --release --quiet -- bench --exercises

# Check your solution of an exercise, e.g. `just exercise 4.2` (`just exercise 4` is 4.1; `just exercise capstone`)
exercise N:
    cargo run --release --quiet -- exercise {{N}}

# A hint for an exercise: a first nudge, then a stronger one each time, e.g. `just hint 4.2`
hint N:
    cargo run --release --quiet -- hint {{N}}

# Chapter N's quiz (the one at the end of its page), in the terminal
quiz N:
    cargo run --release --quiet -- quiz {{N}}

# Your progress: every exercise and its result
exercises:
    cargo run --release --quiet -- exercises

# Check the first unsolved exercise at each save of its file, then the next (q quits)
watch:
    cargo run --release --quiet -- watch

# Send your results to your teacher's live table: `just join http://ADDRESS:7979/class/CODE "Your Name"` (`course join --leave` stops)
join URL NAME:
    cargo run --release --quiet -- join {{URL}} --name "{{NAME}}"

# Teachers: the class's live table, e.g. `just teacher-live --listen 192.168.1.10` (loopback by default)
teacher-live *ARGS:
    cargo run --release --quiet -- teacher live {{ARGS}}

# Teachers: copy the course to DIR for a student (exercises unsolved, no solutions)
teacher-export DIR:
    cargo run --release --quiet -- teacher export {{DIR}}

# Teachers: check students' copies (or a folder that holds them), print a class table
teacher-check +DIRS:
    cargo run --release --quiet -- teacher check {{DIRS}}
