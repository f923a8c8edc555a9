-- The SQLite schema an emulator from before Alembic (main at a2aa27b) created; tests/unit/test_migrations.py
-- upgrades a database built from it. Dumped from sqlite_master of a fresh database of that version.
CREATE TABLE batches (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	tenant VARCHAR(128) NOT NULL, 
	organization_id VARCHAR NOT NULL, 
	endpoint VARCHAR NOT NULL, 
	model VARCHAR, 
	input_file_id VARCHAR NOT NULL, 
	completion_window VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	output_file_id VARCHAR, 
	error_file_id VARCHAR, 
	errors JSON, 
	metadata JSON, 
	created_at INTEGER NOT NULL, 
	in_progress_at INTEGER, 
	expires_at INTEGER NOT NULL, 
	finalizing_at INTEGER, 
	completed_at INTEGER, 
	failed_at INTEGER, 
	expired_at INTEGER, 
	cancelling_at INTEGER, 
	cancelled_at INTEGER, 
	total INTEGER NOT NULL, 
	completed INTEGER NOT NULL, 
	failed INTEGER NOT NULL, 
	usage JSON, 
	output_expires INTEGER, 
	version INTEGER NOT NULL, 
	stage_started FLOAT NOT NULL, 
	lines_done INTEGER NOT NULL, 
	input_offset INTEGER NOT NULL, 
	out_path VARCHAR, 
	err_path VARCHAR, 
	PRIMARY KEY (seq)
);
CREATE TABLE checkpoints (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	job_id VARCHAR(64) NOT NULL, 
	created_at INTEGER NOT NULL, 
	step_number INTEGER NOT NULL, 
	metrics JSON, 
	fine_tuned_model_checkpoint VARCHAR NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE TABLE events (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	job_id VARCHAR(64) NOT NULL, 
	job_seq INTEGER NOT NULL, 
	created_at INTEGER NOT NULL, 
	level VARCHAR NOT NULL, 
	message VARCHAR NOT NULL, 
	type VARCHAR NOT NULL, 
	data JSON, 
	PRIMARY KEY (seq), 
	UNIQUE (job_id, job_seq)
);
CREATE TABLE files (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	tenant VARCHAR(128) NOT NULL, 
	filename VARCHAR NOT NULL, 
	purpose VARCHAR(32) NOT NULL, 
	bytes BIGINT NOT NULL, 
	created_at INTEGER NOT NULL, 
	expires_at INTEGER, 
	status VARCHAR NOT NULL, 
	status_details VARCHAR, 
	path VARCHAR NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE TABLE fixtures (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	tenant VARCHAR(128), 
	model VARCHAR, 
	pattern VARCHAR, 
	reply JSON, 
	PRIMARY KEY (seq), 
	UNIQUE (id)
);
CREATE TABLE jobs (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	tenant VARCHAR(128) NOT NULL, 
	organization_id VARCHAR NOT NULL, 
	org_name VARCHAR NOT NULL, 
	model VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	training_file VARCHAR NOT NULL, 
	validation_file VARCHAR, 
	hyperparameters JSON, 
	method JSON, 
	suffix VARCHAR, 
	user_provided_suffix VARCHAR, 
	seed INTEGER NOT NULL, 
	metadata JSON, 
	integrations JSON, 
	created_at INTEGER NOT NULL, 
	finished_at INTEGER, 
	fine_tuned_model VARCHAR, 
	trained_tokens INTEGER, 
	result_files JSON, 
	error JSON, 
	estimated_finish INTEGER, 
	version INTEGER NOT NULL, 
	stage_started FLOAT NOT NULL, 
	steps_done INTEGER NOT NULL, 
	steps_base INTEGER NOT NULL, 
	total_steps INTEGER, 
	n_examples INTEGER, 
	billing_tokens INTEGER, 
	"plan" JSON, 
	event_count INTEGER NOT NULL, 
	model_token VARCHAR NOT NULL, 
	forced JSON, 
	warnings JSON, 
	PRIMARY KEY (seq)
);
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value JSON, 
	PRIMARY KEY ("key")
);
CREATE TABLE models (
	seq INTEGER NOT NULL, 
	id VARCHAR(256) NOT NULL, 
	tenant VARCHAR(128) NOT NULL, 
	created INTEGER NOT NULL, 
	owned_by VARCHAR NOT NULL, 
	base_model VARCHAR NOT NULL, 
	job_id VARCHAR NOT NULL, 
	kind VARCHAR NOT NULL, 
	step INTEGER, 
	training_file VARCHAR, 
	deleted BOOLEAN NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE TABLE responses (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	tenant VARCHAR(128) NOT NULL, 
	created_at INTEGER NOT NULL, 
	status VARCHAR NOT NULL, 
	background BOOLEAN NOT NULL, 
	ready_at FLOAT NOT NULL, 
	previous_response_id VARCHAR, 
	body JSON, 
	input_items JSON, 
	deleted BOOLEAN NOT NULL, 
	version INTEGER NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE TABLE upload_parts (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	upload_id VARCHAR(64) NOT NULL, 
	created_at INTEGER NOT NULL, 
	bytes BIGINT NOT NULL, 
	path VARCHAR NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE TABLE uploads (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	tenant VARCHAR(128) NOT NULL, 
	filename VARCHAR NOT NULL, 
	purpose VARCHAR NOT NULL, 
	bytes BIGINT NOT NULL, 
	mime_type VARCHAR NOT NULL, 
	created_at INTEGER NOT NULL, 
	expires_at INTEGER NOT NULL, 
	status VARCHAR NOT NULL, 
	file_id VARCHAR, 
	PRIMARY KEY (seq)
);
CREATE UNIQUE INDEX ix_batches_id ON batches (id);
CREATE INDEX ix_batches_status ON batches (status);
CREATE INDEX ix_batches_tenant ON batches (tenant);
CREATE UNIQUE INDEX ix_checkpoints_id ON checkpoints (id);
CREATE INDEX ix_checkpoints_job_id ON checkpoints (job_id);
CREATE UNIQUE INDEX ix_events_id ON events (id);
CREATE INDEX ix_events_job_id ON events (job_id);
CREATE INDEX ix_files_deleted ON files (deleted);
CREATE UNIQUE INDEX ix_files_id ON files (id);
CREATE INDEX ix_files_tenant ON files (tenant);
CREATE INDEX ix_fixtures_tenant ON fixtures (tenant);
CREATE UNIQUE INDEX ix_jobs_id ON jobs (id);
CREATE INDEX ix_jobs_status ON jobs (status);
CREATE INDEX ix_jobs_tenant ON jobs (tenant);
CREATE INDEX ix_models_deleted ON models (deleted);
CREATE UNIQUE INDEX ix_models_id ON models (id);
CREATE INDEX ix_models_tenant ON models (tenant);
CREATE INDEX ix_responses_deleted ON responses (deleted);
CREATE UNIQUE INDEX ix_responses_id ON responses (id);
CREATE INDEX ix_responses_tenant ON responses (tenant);
CREATE UNIQUE INDEX ix_upload_parts_id ON upload_parts (id);
CREATE INDEX ix_upload_parts_upload_id ON upload_parts (upload_id);
CREATE UNIQUE INDEX ix_uploads_id ON uploads (id);
CREATE INDEX ix_uploads_tenant ON uploads (tenant);
INSERT INTO meta (key, value) VALUES ('schema_version', '1');
