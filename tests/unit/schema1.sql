PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value JSON, 
	PRIMARY KEY ("key")
);
INSERT INTO meta VALUES('schema_version',1);
INSERT INTO meta VALUES('clock','{"transitions": "manual", "time_scale": 1.0, "anchor_wall": 1750000000.0, "anchor_virtual": 1750000360.0}');
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
INSERT INTO files VALUES(1,'file-DDADDlHzGe3nwyE5dntKWQXL','org-xRxZ8vP1a640DUS0tx7V4RjG/proj_ekvPMHOdRchBSoCXMo2yNG38','t.jsonl','fine-tune',2116,1750000000,NULL,'processed',NULL,'files/file-DDADDlHzGe3nwyE5dntKWQXL',0);
INSERT INTO files VALUES(2,'file-aQZQJig1rT8zgp9DdIH3e4jl','org-xRxZ8vP1a640DUS0tx7V4RjG/proj_ekvPMHOdRchBSoCXMo2yNG38','step_metrics.csv','fine-tune-results',2864,1750000360,NULL,'processed',NULL,'files/file-aQZQJig1rT8zgp9DdIH3e4jl',0);
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
CREATE TABLE upload_parts (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	upload_id VARCHAR(64) NOT NULL, 
	created_at INTEGER NOT NULL, 
	bytes BIGINT NOT NULL, 
	path VARCHAR NOT NULL, 
	PRIMARY KEY (seq)
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
INSERT INTO jobs VALUES(1,'ftjob-thqZrK3vN0d3JHo67VnhQn37','org-xRxZ8vP1a640DUS0tx7V4RjG/proj_ekvPMHOdRchBSoCXMo2yNG38','org-xRxZ8vP1a640DUS0tx7V4RjG','personal','gpt-4o-mini-2024-07-18','succeeded','file-DDADDlHzGe3nwyE5dntKWQXL',NULL,'{"batch_size": 1, "learning_rate_multiplier": 1.8, "n_epochs": 10}','{"type": "supervised", "supervised": {"hyperparameters": {"batch_size": 1, "learning_rate_multiplier": 1.8, "n_epochs": 10}}}','',NULL,3,'null','[]',1750000000,1750000360,'ft:gpt-4o-mini-2024-07-18:personal::wIgYNbu8',4040,'["file-aQZQJig1rT8zgp9DdIH3e4jl"]','null',NULL,1,1750000360.0,100,0,100,10,404,'{"n_examples": 10, "billing_tokens": 404, "n_epochs": 10, "batch_size": 1, "learning_rate_multiplier": 1.8, "beta": null}',108,'wIgYNbu8','null','null');
INSERT INTO jobs VALUES(2,'ftjob-lphCnUrKuLgRZRf0lLrdHbNv','org-xRxZ8vP1a640DUS0tx7V4RjG/proj_ekvPMHOdRchBSoCXMo2yNG38','org-xRxZ8vP1a640DUS0tx7V4RjG','personal','gpt-4o-mini-2024-07-18','validating_files','file-DDADDlHzGe3nwyE5dntKWQXL',NULL,'{"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}','{"type": "supervised", "supervised": {"hyperparameters": {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}}}','',NULL,4,'null','[]',1750000000,NULL,NULL,NULL,'[]','null',NULL,0,1750000000.0,0,0,NULL,NULL,NULL,'null',2,'ODkapiHX','null','null');
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
INSERT INTO events VALUES(1,'ftevent-z0nkLKhhDd7fNnbBxd4Swbrb','ftjob-thqZrK3vN0d3JHo67VnhQn37',1,1750000000,'info','Created fine-tuning job: ftjob-thqZrK3vN0d3JHo67VnhQn37','message','{}');
INSERT INTO events VALUES(2,'ftevent-LllPNFrzQNBbrR3AoAJ91YoD','ftjob-thqZrK3vN0d3JHo67VnhQn37',2,1750000000,'info','Validating training file: file-DDADDlHzGe3nwyE5dntKWQXL','message','{}');
INSERT INTO events VALUES(3,'ftevent-eo3Law9IeGkrcv4GTED28sAX','ftjob-lphCnUrKuLgRZRf0lLrdHbNv',1,1750000000,'info','Created fine-tuning job: ftjob-lphCnUrKuLgRZRf0lLrdHbNv','message','{}');
INSERT INTO events VALUES(4,'ftevent-QYwgZ1yoPHW3Y1LUzK6BwbfQ','ftjob-lphCnUrKuLgRZRf0lLrdHbNv',2,1750000000,'info','Validating training file: file-DDADDlHzGe3nwyE5dntKWQXL','message','{}');
INSERT INTO events VALUES(5,'ftevent-bqkbyMAfq0wtwmUImxkVVKpF','ftjob-thqZrK3vN0d3JHo67VnhQn37',3,1750000030,'info','Files validated, moving job to queued state','message','{}');
INSERT INTO events VALUES(6,'ftevent-xNPhAEFbmghQPr317CWRphVo','ftjob-thqZrK3vN0d3JHo67VnhQn37',4,1750000045,'info','Fine-tuning job started','message','null');
INSERT INTO events VALUES(7,'ftevent-qFkT8b86wyOBhpjGPWqGihIA','ftjob-thqZrK3vN0d3JHo67VnhQn37',5,1750000048,'info','Step 1/100: training loss=1.55','metrics','{"step": 1, "train_loss": 1.55385, "train_mean_token_accuracy": 0.13503, "total_steps": 100}');
INSERT INTO events VALUES(8,'ftevent-5Jvot7c7DfKRhppHS24TvL7U','ftjob-thqZrK3vN0d3JHo67VnhQn37',6,1750000051,'info','Step 2/100: training loss=1.61','metrics','{"step": 2, "train_loss": 1.60993, "train_mean_token_accuracy": 0.16838, "total_steps": 100}');
INSERT INTO events VALUES(9,'ftevent-QiPqRx1IQOu8d0itCkbxX6o8','ftjob-thqZrK3vN0d3JHo67VnhQn37',7,1750000054,'info','Step 3/100: training loss=1.44','metrics','{"step": 3, "train_loss": 1.43577, "train_mean_token_accuracy": 0.18467, "total_steps": 100}');
INSERT INTO events VALUES(10,'ftevent-wSe4I8asfex3Q0KRep8BGkmj','ftjob-thqZrK3vN0d3JHo67VnhQn37',8,1750000057,'info','Step 4/100: training loss=1.35','metrics','{"step": 4, "train_loss": 1.34523, "train_mean_token_accuracy": 0.21514, "total_steps": 100}');
INSERT INTO events VALUES(11,'ftevent-wYixTu5jhAn7PAYPN0ijcbnF','ftjob-thqZrK3vN0d3JHo67VnhQn37',9,1750000060,'info','Step 5/100: training loss=1.36','metrics','{"step": 5, "train_loss": 1.35798, "train_mean_token_accuracy": 0.26669, "total_steps": 100}');
INSERT INTO events VALUES(12,'ftevent-62BDDPOCK0yVDnCmJrGFzBkP','ftjob-thqZrK3vN0d3JHo67VnhQn37',10,1750000063,'info','Step 6/100: training loss=1.34','metrics','{"step": 6, "train_loss": 1.33887, "train_mean_token_accuracy": 0.26307, "total_steps": 100}');
INSERT INTO events VALUES(13,'ftevent-zA6OUKZ28YfbtcJ33X3J6M9c','ftjob-thqZrK3vN0d3JHo67VnhQn37',11,1750000066,'info','Step 7/100: training loss=1.47','metrics','{"step": 7, "train_loss": 1.46744, "train_mean_token_accuracy": 0.32899, "total_steps": 100}');
INSERT INTO events VALUES(14,'ftevent-e5QKMTa95e2e3weydpwGLq7B','ftjob-thqZrK3vN0d3JHo67VnhQn37',12,1750000069,'info','Step 8/100: training loss=1.27','metrics','{"step": 8, "train_loss": 1.26579, "train_mean_token_accuracy": 0.35321, "total_steps": 100}');
INSERT INTO events VALUES(15,'ftevent-nPf4yf1CNPLtDruBDu66Ttzt','ftjob-thqZrK3vN0d3JHo67VnhQn37',13,1750000072,'info','Step 9/100: training loss=1.22','metrics','{"step": 9, "train_loss": 1.21821, "train_mean_token_accuracy": 0.34612, "total_steps": 100}');
INSERT INTO events VALUES(16,'ftevent-CrQd04r7EjDXx2nWPrgQKkFF','ftjob-thqZrK3vN0d3JHo67VnhQn37',14,1750000075,'info','Step 10/100: training loss=1.29','metrics','{"step": 10, "train_loss": 1.28568, "train_mean_token_accuracy": 0.39514, "total_steps": 100}');
INSERT INTO events VALUES(17,'ftevent-Zt4KfnyGKprRPHP7S0eeqFof','ftjob-thqZrK3vN0d3JHo67VnhQn37',15,1750000078,'info','Step 11/100: training loss=1.19','metrics','{"step": 11, "train_loss": 1.18534, "train_mean_token_accuracy": 0.39234, "total_steps": 100}');
INSERT INTO events VALUES(18,'ftevent-lPDgQeoolcGmXGVj8FOyfe6W','ftjob-thqZrK3vN0d3JHo67VnhQn37',16,1750000081,'info','Step 12/100: training loss=1.32','metrics','{"step": 12, "train_loss": 1.31595, "train_mean_token_accuracy": 0.43585, "total_steps": 100}');
INSERT INTO events VALUES(19,'ftevent-DJXLKwE30otoK6GBAtLEHOtr','ftjob-thqZrK3vN0d3JHo67VnhQn37',17,1750000084,'info','Step 13/100: training loss=1.13','metrics','{"step": 13, "train_loss": 1.13137, "train_mean_token_accuracy": 0.42293, "total_steps": 100}');
INSERT INTO events VALUES(20,'ftevent-gIwjv0k7hVBQw82O0na8JgJj','ftjob-thqZrK3vN0d3JHo67VnhQn37',18,1750000087,'info','Step 14/100: training loss=1.02','metrics','{"step": 14, "train_loss": 1.01512, "train_mean_token_accuracy": 0.46561, "total_steps": 100}');
INSERT INTO events VALUES(21,'ftevent-rKwhaWNjo0qQnlqVGcFaA6Wm','ftjob-thqZrK3vN0d3JHo67VnhQn37',19,1750000090,'info','Step 15/100: training loss=1.01','metrics','{"step": 15, "train_loss": 1.0122, "train_mean_token_accuracy": 0.514, "total_steps": 100}');
INSERT INTO events VALUES(22,'ftevent-vcJhwo2P4m0Y7WYGobWdIf2w','ftjob-thqZrK3vN0d3JHo67VnhQn37',20,1750000093,'info','Step 16/100: training loss=1.01','metrics','{"step": 16, "train_loss": 1.00902, "train_mean_token_accuracy": 0.50405, "total_steps": 100}');
INSERT INTO events VALUES(23,'ftevent-ioZz65VE2XDI6rlAKzcZlByE','ftjob-thqZrK3vN0d3JHo67VnhQn37',21,1750000096,'info','Step 17/100: training loss=0.88','metrics','{"step": 17, "train_loss": 0.87545, "train_mean_token_accuracy": 0.54289, "total_steps": 100}');
INSERT INTO events VALUES(24,'ftevent-o4dSDLG10H48jtNpMoEBRdV7','ftjob-thqZrK3vN0d3JHo67VnhQn37',22,1750000099,'info','Step 18/100: training loss=0.91','metrics','{"step": 18, "train_loss": 0.90582, "train_mean_token_accuracy": 0.53759, "total_steps": 100}');
INSERT INTO events VALUES(25,'ftevent-a8xkvskkMEfEvxQVd2sbTmgB','ftjob-thqZrK3vN0d3JHo67VnhQn37',23,1750000102,'info','Step 19/100: training loss=0.91','metrics','{"step": 19, "train_loss": 0.90932, "train_mean_token_accuracy": 0.55432, "total_steps": 100}');
INSERT INTO events VALUES(26,'ftevent-6LOsu5xk4qFMJ77cQV2FRu1Z','ftjob-thqZrK3vN0d3JHo67VnhQn37',24,1750000105,'info','Step 20/100: training loss=0.77','metrics','{"step": 20, "train_loss": 0.76616, "train_mean_token_accuracy": 0.58247, "total_steps": 100}');
INSERT INTO events VALUES(27,'ftevent-vNT5KBUTjlXcTtoTlexUYswl','ftjob-thqZrK3vN0d3JHo67VnhQn37',25,1750000108,'info','Step 21/100: training loss=0.81','metrics','{"step": 21, "train_loss": 0.80755, "train_mean_token_accuracy": 0.59574, "total_steps": 100}');
INSERT INTO events VALUES(28,'ftevent-Q4wWKwfCMf51690urwoDrEnm','ftjob-thqZrK3vN0d3JHo67VnhQn37',26,1750000111,'info','Step 22/100: training loss=0.76','metrics','{"step": 22, "train_loss": 0.76057, "train_mean_token_accuracy": 0.61737, "total_steps": 100}');
INSERT INTO events VALUES(29,'ftevent-uTw79KXBCImxkdrSl8Na26Qs','ftjob-thqZrK3vN0d3JHo67VnhQn37',27,1750000114,'info','Step 23/100: training loss=0.81','metrics','{"step": 23, "train_loss": 0.81229, "train_mean_token_accuracy": 0.61119, "total_steps": 100}');
INSERT INTO events VALUES(30,'ftevent-g217o9DKYfW6QDBfpieQ4sx7','ftjob-thqZrK3vN0d3JHo67VnhQn37',28,1750000117,'info','Step 24/100: training loss=0.68','metrics','{"step": 24, "train_loss": 0.68203, "train_mean_token_accuracy": 0.63907, "total_steps": 100}');
INSERT INTO events VALUES(31,'ftevent-ZtBEqLMgnHl6Adjho26J80Ez','ftjob-thqZrK3vN0d3JHo67VnhQn37',29,1750000120,'info','Step 25/100: training loss=0.72','metrics','{"step": 25, "train_loss": 0.71509, "train_mean_token_accuracy": 0.62438, "total_steps": 100}');
INSERT INTO events VALUES(32,'ftevent-l1lziscORjLiDFvjihGSElhX','ftjob-thqZrK3vN0d3JHo67VnhQn37',30,1750000123,'info','Step 26/100: training loss=0.77','metrics','{"step": 26, "train_loss": 0.76749, "train_mean_token_accuracy": 0.65686, "total_steps": 100}');
INSERT INTO events VALUES(33,'ftevent-Dy2SYvtzanolDWKLzpe4RD94','ftjob-thqZrK3vN0d3JHo67VnhQn37',31,1750000126,'info','Step 27/100: training loss=0.68','metrics','{"step": 27, "train_loss": 0.68055, "train_mean_token_accuracy": 0.67967, "total_steps": 100}');
INSERT INTO events VALUES(34,'ftevent-73ZsJ6tF82V4liMecPVx4RPZ','ftjob-thqZrK3vN0d3JHo67VnhQn37',32,1750000129,'info','Step 28/100: training loss=0.57','metrics','{"step": 28, "train_loss": 0.56752, "train_mean_token_accuracy": 0.66093, "total_steps": 100}');
INSERT INTO events VALUES(35,'ftevent-xVIUnwD4UJAFWQFbvYNd0dvP','ftjob-thqZrK3vN0d3JHo67VnhQn37',33,1750000132,'info','Step 29/100: training loss=0.59','metrics','{"step": 29, "train_loss": 0.59477, "train_mean_token_accuracy": 0.68809, "total_steps": 100}');
INSERT INTO events VALUES(36,'ftevent-X4CxHQXPPQhsixOzsEU3HrFP','ftjob-thqZrK3vN0d3JHo67VnhQn37',34,1750000135,'info','Step 30/100: training loss=0.55','metrics','{"step": 30, "train_loss": 0.55488, "train_mean_token_accuracy": 0.68307, "total_steps": 100}');
INSERT INTO events VALUES(37,'ftevent-T4OMEz2neJIhaVNVgABgh0D7','ftjob-thqZrK3vN0d3JHo67VnhQn37',35,1750000138,'info','Step 31/100: training loss=0.59','metrics','{"step": 31, "train_loss": 0.58625, "train_mean_token_accuracy": 0.72861, "total_steps": 100}');
INSERT INTO events VALUES(38,'ftevent-8iwamssbTawXqPGyNziYLy3u','ftjob-thqZrK3vN0d3JHo67VnhQn37',36,1750000141,'info','Step 32/100: training loss=0.59','metrics','{"step": 32, "train_loss": 0.58505, "train_mean_token_accuracy": 0.72007, "total_steps": 100}');
INSERT INTO events VALUES(39,'ftevent-IVFpMReHw0KxDHrDgoG5UYiY','ftjob-thqZrK3vN0d3JHo67VnhQn37',37,1750000144,'info','Step 33/100: training loss=0.43','metrics','{"step": 33, "train_loss": 0.43475, "train_mean_token_accuracy": 0.75474, "total_steps": 100}');
INSERT INTO events VALUES(40,'ftevent-0H8wxdNjLlcGGxwsBBagA4WU','ftjob-thqZrK3vN0d3JHo67VnhQn37',38,1750000147,'info','Step 34/100: training loss=0.50','metrics','{"step": 34, "train_loss": 0.49656, "train_mean_token_accuracy": 0.74495, "total_steps": 100}');
INSERT INTO events VALUES(41,'ftevent-J4RCIcXl6vLCk6abDpDCjYP8','ftjob-thqZrK3vN0d3JHo67VnhQn37',39,1750000150,'info','Step 35/100: training loss=0.48','metrics','{"step": 35, "train_loss": 0.47989, "train_mean_token_accuracy": 0.74189, "total_steps": 100}');
INSERT INTO events VALUES(42,'ftevent-gitPj4gihMtbJTpXmvASCTRd','ftjob-thqZrK3vN0d3JHo67VnhQn37',40,1750000153,'info','Step 36/100: training loss=0.49','metrics','{"step": 36, "train_loss": 0.49421, "train_mean_token_accuracy": 0.74426, "total_steps": 100}');
INSERT INTO events VALUES(43,'ftevent-5HmXbO21m5HXBpORuqp5d9K1','ftjob-thqZrK3vN0d3JHo67VnhQn37',41,1750000156,'info','Step 37/100: training loss=0.44','metrics','{"step": 37, "train_loss": 0.44334, "train_mean_token_accuracy": 0.7837, "total_steps": 100}');
INSERT INTO events VALUES(44,'ftevent-OKbozshxbhLI5fBxJqA2k1AA','ftjob-thqZrK3vN0d3JHo67VnhQn37',42,1750000159,'info','Step 38/100: training loss=0.46','metrics','{"step": 38, "train_loss": 0.45935, "train_mean_token_accuracy": 0.77608, "total_steps": 100}');
INSERT INTO events VALUES(45,'ftevent-HuoHuFIVXTDTbfXFBT4cSuo2','ftjob-thqZrK3vN0d3JHo67VnhQn37',43,1750000162,'info','Step 39/100: training loss=0.43','metrics','{"step": 39, "train_loss": 0.42554, "train_mean_token_accuracy": 0.76926, "total_steps": 100}');
INSERT INTO events VALUES(46,'ftevent-e6rSxebj1h9lYs1IKCkT5G1L','ftjob-thqZrK3vN0d3JHo67VnhQn37',44,1750000165,'info','Step 40/100: training loss=0.46','metrics','{"step": 40, "train_loss": 0.45821, "train_mean_token_accuracy": 0.78707, "total_steps": 100}');
INSERT INTO events VALUES(47,'ftevent-FQOtMSHzwAT4SUtcoxWqZRVY','ftjob-thqZrK3vN0d3JHo67VnhQn37',45,1750000168,'info','Step 41/100: training loss=0.41','metrics','{"step": 41, "train_loss": 0.40779, "train_mean_token_accuracy": 0.79817, "total_steps": 100}');
INSERT INTO events VALUES(48,'ftevent-B6WLFwgmVpn41WUmOaqTEeMy','ftjob-thqZrK3vN0d3JHo67VnhQn37',46,1750000171,'info','Step 42/100: training loss=0.43','metrics','{"step": 42, "train_loss": 0.43008, "train_mean_token_accuracy": 0.81038, "total_steps": 100}');
INSERT INTO events VALUES(49,'ftevent-R95P7KbrFliNVGXyaEDL6l7n','ftjob-thqZrK3vN0d3JHo67VnhQn37',47,1750000174,'info','Step 43/100: training loss=0.42','metrics','{"step": 43, "train_loss": 0.42371, "train_mean_token_accuracy": 0.8157, "total_steps": 100}');
INSERT INTO events VALUES(50,'ftevent-6iiYeafbjZlRVwDHOTzYueQx','ftjob-thqZrK3vN0d3JHo67VnhQn37',48,1750000177,'info','Step 44/100: training loss=0.37','metrics','{"step": 44, "train_loss": 0.37026, "train_mean_token_accuracy": 0.79978, "total_steps": 100}');
INSERT INTO events VALUES(51,'ftevent-2d7Wo491aX1RAwU2kedinWah','ftjob-thqZrK3vN0d3JHo67VnhQn37',49,1750000180,'info','Step 45/100: training loss=0.32','metrics','{"step": 45, "train_loss": 0.32008, "train_mean_token_accuracy": 0.84383, "total_steps": 100}');
INSERT INTO events VALUES(52,'ftevent-kUQAl1pes25dLyBlXuTM7lct','ftjob-thqZrK3vN0d3JHo67VnhQn37',50,1750000183,'info','Step 46/100: training loss=0.33','metrics','{"step": 46, "train_loss": 0.32822, "train_mean_token_accuracy": 0.86072, "total_steps": 100}');
INSERT INTO events VALUES(53,'ftevent-cu7ouTjz5ACaeHlyFnr5EOe5','ftjob-thqZrK3vN0d3JHo67VnhQn37',51,1750000186,'info','Step 47/100: training loss=0.35','metrics','{"step": 47, "train_loss": 0.35363, "train_mean_token_accuracy": 0.82466, "total_steps": 100}');
INSERT INTO events VALUES(54,'ftevent-046UCtl38UaVI9ZIVz3RRFvC','ftjob-thqZrK3vN0d3JHo67VnhQn37',52,1750000189,'info','Step 48/100: training loss=0.30','metrics','{"step": 48, "train_loss": 0.29839, "train_mean_token_accuracy": 0.83505, "total_steps": 100}');
INSERT INTO events VALUES(55,'ftevent-M3P6JGheG1mVbjQB0do24qUH','ftjob-thqZrK3vN0d3JHo67VnhQn37',53,1750000192,'info','Step 49/100: training loss=0.31','metrics','{"step": 49, "train_loss": 0.30938, "train_mean_token_accuracy": 0.85362, "total_steps": 100}');
INSERT INTO events VALUES(56,'ftevent-5RGJJzmNDxqT5uX3S41Yaa52','ftjob-thqZrK3vN0d3JHo67VnhQn37',54,1750000195,'info','Step 50/100: training loss=0.31','metrics','{"step": 50, "train_loss": 0.31215, "train_mean_token_accuracy": 0.85047, "total_steps": 100}');
INSERT INTO events VALUES(57,'ftevent-dBC6a1tojnkJ0jaOcHtvyg0y','ftjob-thqZrK3vN0d3JHo67VnhQn37',55,1750000198,'info','Step 51/100: training loss=0.28','metrics','{"step": 51, "train_loss": 0.2786, "train_mean_token_accuracy": 0.84586, "total_steps": 100}');
INSERT INTO events VALUES(58,'ftevent-bHzpddBbSXIr7wELMQjrIxLa','ftjob-thqZrK3vN0d3JHo67VnhQn37',56,1750000201,'info','Step 52/100: training loss=0.33','metrics','{"step": 52, "train_loss": 0.32566, "train_mean_token_accuracy": 0.85314, "total_steps": 100}');
INSERT INTO events VALUES(59,'ftevent-auNn4U4UBXhFEH9XXcRVc8XI','ftjob-thqZrK3vN0d3JHo67VnhQn37',57,1750000204,'info','Step 53/100: training loss=0.29','metrics','{"step": 53, "train_loss": 0.2908, "train_mean_token_accuracy": 0.85417, "total_steps": 100}');
INSERT INTO events VALUES(60,'ftevent-hX9407zWRpCiiUvilMJJcxdR','ftjob-thqZrK3vN0d3JHo67VnhQn37',58,1750000207,'info','Step 54/100: training loss=0.29','metrics','{"step": 54, "train_loss": 0.28719, "train_mean_token_accuracy": 0.86297, "total_steps": 100}');
INSERT INTO events VALUES(61,'ftevent-sly2ywuy6asxqPOzHdk6itKS','ftjob-thqZrK3vN0d3JHo67VnhQn37',59,1750000210,'info','Step 55/100: training loss=0.27','metrics','{"step": 55, "train_loss": 0.27005, "train_mean_token_accuracy": 0.87573, "total_steps": 100}');
INSERT INTO events VALUES(62,'ftevent-PsQd5Xgj9L46NFxJEVHRN520','ftjob-thqZrK3vN0d3JHo67VnhQn37',60,1750000213,'info','Step 56/100: training loss=0.26','metrics','{"step": 56, "train_loss": 0.25755, "train_mean_token_accuracy": 0.86156, "total_steps": 100}');
INSERT INTO events VALUES(63,'ftevent-U4wjROiwWYCei50ANtG5eeUt','ftjob-thqZrK3vN0d3JHo67VnhQn37',61,1750000216,'info','Step 57/100: training loss=0.29','metrics','{"step": 57, "train_loss": 0.29124, "train_mean_token_accuracy": 0.84748, "total_steps": 100}');
INSERT INTO events VALUES(64,'ftevent-Sk1lNvbHVGTWaEL3QgUjsGI3','ftjob-thqZrK3vN0d3JHo67VnhQn37',62,1750000219,'info','Step 58/100: training loss=0.24','metrics','{"step": 58, "train_loss": 0.24325, "train_mean_token_accuracy": 0.88881, "total_steps": 100}');
INSERT INTO events VALUES(65,'ftevent-rDMSayWTqvPxGTDi5Tm72EL2','ftjob-thqZrK3vN0d3JHo67VnhQn37',63,1750000222,'info','Step 59/100: training loss=0.26','metrics','{"step": 59, "train_loss": 0.25986, "train_mean_token_accuracy": 0.88296, "total_steps": 100}');
INSERT INTO events VALUES(66,'ftevent-rvwRZTxSplJunfrkLC3m9aQ8','ftjob-thqZrK3vN0d3JHo67VnhQn37',64,1750000225,'info','Step 60/100: training loss=0.22','metrics','{"step": 60, "train_loss": 0.21996, "train_mean_token_accuracy": 0.86374, "total_steps": 100}');
INSERT INTO events VALUES(67,'ftevent-izBtUQFpm3bLP1eDrzTgpNLk','ftjob-thqZrK3vN0d3JHo67VnhQn37',65,1750000228,'info','Step 61/100: training loss=0.22','metrics','{"step": 61, "train_loss": 0.21889, "train_mean_token_accuracy": 0.88647, "total_steps": 100}');
INSERT INTO events VALUES(68,'ftevent-z1WM7UnoLyv0GZPWCli25N76','ftjob-thqZrK3vN0d3JHo67VnhQn37',66,1750000231,'info','Step 62/100: training loss=0.20','metrics','{"step": 62, "train_loss": 0.20068, "train_mean_token_accuracy": 0.88907, "total_steps": 100}');
INSERT INTO events VALUES(69,'ftevent-z3HpDIS8j4RTOOB4KBvHCBHH','ftjob-thqZrK3vN0d3JHo67VnhQn37',67,1750000234,'info','Step 63/100: training loss=0.19','metrics','{"step": 63, "train_loss": 0.19311, "train_mean_token_accuracy": 0.90975, "total_steps": 100}');
INSERT INTO events VALUES(70,'ftevent-bo0DfGXjBzmFcDLVitYpxQ1i','ftjob-thqZrK3vN0d3JHo67VnhQn37',68,1750000237,'info','Step 64/100: training loss=0.22','metrics','{"step": 64, "train_loss": 0.21655, "train_mean_token_accuracy": 0.89595, "total_steps": 100}');
INSERT INTO events VALUES(71,'ftevent-GPGzHX47q5OAsDqNgsqN5tQ9','ftjob-thqZrK3vN0d3JHo67VnhQn37',69,1750000240,'info','Step 65/100: training loss=0.19','metrics','{"step": 65, "train_loss": 0.19415, "train_mean_token_accuracy": 0.9154, "total_steps": 100}');
INSERT INTO events VALUES(72,'ftevent-8nK6MqX3PPWc29hvA1byI9G0','ftjob-thqZrK3vN0d3JHo67VnhQn37',70,1750000243,'info','Step 66/100: training loss=0.21','metrics','{"step": 66, "train_loss": 0.20766, "train_mean_token_accuracy": 0.87652, "total_steps": 100}');
INSERT INTO events VALUES(73,'ftevent-OrPOrXy4wK3aurn9LWzpEDOz','ftjob-thqZrK3vN0d3JHo67VnhQn37',71,1750000246,'info','Step 67/100: training loss=0.18','metrics','{"step": 67, "train_loss": 0.18132, "train_mean_token_accuracy": 0.86069, "total_steps": 100}');
INSERT INTO events VALUES(74,'ftevent-cvaDwT5yFpsNxFwvrey1hRZj','ftjob-thqZrK3vN0d3JHo67VnhQn37',72,1750000249,'info','Step 68/100: training loss=0.20','metrics','{"step": 68, "train_loss": 0.20212, "train_mean_token_accuracy": 0.88647, "total_steps": 100}');
INSERT INTO events VALUES(75,'ftevent-F6tB5iVNXut1VaktKfmjSqZx','ftjob-thqZrK3vN0d3JHo67VnhQn37',73,1750000252,'info','Step 69/100: training loss=0.20','metrics','{"step": 69, "train_loss": 0.19615, "train_mean_token_accuracy": 0.90904, "total_steps": 100}');
INSERT INTO events VALUES(76,'ftevent-7FpTnU9LnwHfF0IPRfqDC9Xl','ftjob-thqZrK3vN0d3JHo67VnhQn37',74,1750000255,'info','Step 70/100: training loss=0.20','metrics','{"step": 70, "train_loss": 0.19952, "train_mean_token_accuracy": 0.91674, "total_steps": 100}');
INSERT INTO events VALUES(77,'ftevent-lVUtZtXtWUXZ12dtNXY7U94Q','ftjob-thqZrK3vN0d3JHo67VnhQn37',75,1750000258,'info','Step 71/100: training loss=0.18','metrics','{"step": 71, "train_loss": 0.17994, "train_mean_token_accuracy": 0.88283, "total_steps": 100}');
INSERT INTO events VALUES(78,'ftevent-r2mCcJaYEZNuqHR2JGEUnj5p','ftjob-thqZrK3vN0d3JHo67VnhQn37',76,1750000261,'info','Step 72/100: training loss=0.18','metrics','{"step": 72, "train_loss": 0.18227, "train_mean_token_accuracy": 0.91943, "total_steps": 100}');
INSERT INTO events VALUES(79,'ftevent-I7EknPRBubiDYD6hdfmgqD8t','ftjob-thqZrK3vN0d3JHo67VnhQn37',77,1750000264,'info','Step 73/100: training loss=0.19','metrics','{"step": 73, "train_loss": 0.18809, "train_mean_token_accuracy": 0.89253, "total_steps": 100}');
INSERT INTO events VALUES(80,'ftevent-abWNebbqG3iZwh6JD7Y7yX5V','ftjob-thqZrK3vN0d3JHo67VnhQn37',78,1750000267,'info','Step 74/100: training loss=0.19','metrics','{"step": 74, "train_loss": 0.18698, "train_mean_token_accuracy": 0.91189, "total_steps": 100}');
INSERT INTO events VALUES(81,'ftevent-aO3vaosSlADyDmxoiTnA6DQK','ftjob-thqZrK3vN0d3JHo67VnhQn37',79,1750000270,'info','Step 75/100: training loss=0.16','metrics','{"step": 75, "train_loss": 0.16318, "train_mean_token_accuracy": 0.91203, "total_steps": 100}');
INSERT INTO events VALUES(82,'ftevent-TST5QRV0YMBN9PCVz2i3aPcg','ftjob-thqZrK3vN0d3JHo67VnhQn37',80,1750000273,'info','Step 76/100: training loss=0.16','metrics','{"step": 76, "train_loss": 0.16123, "train_mean_token_accuracy": 0.89927, "total_steps": 100}');
INSERT INTO events VALUES(83,'ftevent-hcjKlr58Do5UnbMcsRDtlgdA','ftjob-thqZrK3vN0d3JHo67VnhQn37',81,1750000276,'info','Step 77/100: training loss=0.15','metrics','{"step": 77, "train_loss": 0.14517, "train_mean_token_accuracy": 0.91044, "total_steps": 100}');
INSERT INTO events VALUES(84,'ftevent-sYlqf7WPWApuxscyrbZemzWG','ftjob-thqZrK3vN0d3JHo67VnhQn37',82,1750000279,'info','Step 78/100: training loss=0.15','metrics','{"step": 78, "train_loss": 0.14957, "train_mean_token_accuracy": 0.9508, "total_steps": 100}');
INSERT INTO events VALUES(85,'ftevent-jA1RrqYEuUpJwWvqOIP6dVqe','ftjob-thqZrK3vN0d3JHo67VnhQn37',83,1750000282,'info','Step 79/100: training loss=0.15','metrics','{"step": 79, "train_loss": 0.14601, "train_mean_token_accuracy": 0.90204, "total_steps": 100}');
INSERT INTO events VALUES(86,'ftevent-JqoPPSJv1KuhXWr9zxK1le1n','ftjob-thqZrK3vN0d3JHo67VnhQn37',84,1750000285,'info','Step 80/100: training loss=0.14','metrics','{"step": 80, "train_loss": 0.14006, "train_mean_token_accuracy": 0.93857, "total_steps": 100}');
INSERT INTO events VALUES(87,'ftevent-Z9tW9ZEDekaapuLatKKtD0WH','ftjob-thqZrK3vN0d3JHo67VnhQn37',85,1750000285,'info','Checkpoint created at step 80 with Snapshot ID: ft:gpt-4o-mini-2024-07-18:personal::lknIDL3F:ckpt-step-80','message','{}');
INSERT INTO events VALUES(88,'ftevent-nAsTryYl1pr4ec7GMiqqBmsB','ftjob-thqZrK3vN0d3JHo67VnhQn37',86,1750000288,'info','Step 81/100: training loss=0.14','metrics','{"step": 81, "train_loss": 0.14143, "train_mean_token_accuracy": 0.93173, "total_steps": 100}');
INSERT INTO events VALUES(89,'ftevent-LAeElL563qUFAihYTH0sIhT2','ftjob-thqZrK3vN0d3JHo67VnhQn37',87,1750000291,'info','Step 82/100: training loss=0.16','metrics','{"step": 82, "train_loss": 0.15744, "train_mean_token_accuracy": 0.93703, "total_steps": 100}');
INSERT INTO events VALUES(90,'ftevent-m6pU8bcFJTxM0GXhFOu5ox2b','ftjob-thqZrK3vN0d3JHo67VnhQn37',88,1750000294,'info','Step 83/100: training loss=0.13','metrics','{"step": 83, "train_loss": 0.13381, "train_mean_token_accuracy": 0.93247, "total_steps": 100}');
INSERT INTO events VALUES(91,'ftevent-XbymkNLSNHq0xb9eLo7piLGp','ftjob-thqZrK3vN0d3JHo67VnhQn37',89,1750000297,'info','Step 84/100: training loss=0.14','metrics','{"step": 84, "train_loss": 0.14327, "train_mean_token_accuracy": 0.9423, "total_steps": 100}');
INSERT INTO events VALUES(92,'ftevent-VL8C6kbPSV6wQfoqoeghlVUM','ftjob-thqZrK3vN0d3JHo67VnhQn37',90,1750000300,'info','Step 85/100: training loss=0.14','metrics','{"step": 85, "train_loss": 0.13909, "train_mean_token_accuracy": 0.94366, "total_steps": 100}');
INSERT INTO events VALUES(93,'ftevent-CpVXDcJIG2JhoK2ZvGbsUzCE','ftjob-thqZrK3vN0d3JHo67VnhQn37',91,1750000303,'info','Step 86/100: training loss=0.14','metrics','{"step": 86, "train_loss": 0.14364, "train_mean_token_accuracy": 0.96409, "total_steps": 100}');
INSERT INTO events VALUES(94,'ftevent-hmARbom8YA9ksMQlqDWWcDVi','ftjob-thqZrK3vN0d3JHo67VnhQn37',92,1750000306,'info','Step 87/100: training loss=0.12','metrics','{"step": 87, "train_loss": 0.1215, "train_mean_token_accuracy": 0.96024, "total_steps": 100}');
INSERT INTO events VALUES(95,'ftevent-HaXOFXHABRfG3ae56fIQQ11R','ftjob-thqZrK3vN0d3JHo67VnhQn37',93,1750000309,'info','Step 88/100: training loss=0.13','metrics','{"step": 88, "train_loss": 0.13206, "train_mean_token_accuracy": 0.93447, "total_steps": 100}');
INSERT INTO events VALUES(96,'ftevent-CWAJsb8wi2FubFYZ0lsjL7rw','ftjob-thqZrK3vN0d3JHo67VnhQn37',94,1750000312,'info','Step 89/100: training loss=0.14','metrics','{"step": 89, "train_loss": 0.13598, "train_mean_token_accuracy": 0.91305, "total_steps": 100}');
INSERT INTO events VALUES(97,'ftevent-VkuY3rKkr4XTVUTGRL7P6HbN','ftjob-thqZrK3vN0d3JHo67VnhQn37',95,1750000315,'info','Step 90/100: training loss=0.13','metrics','{"step": 90, "train_loss": 0.13227, "train_mean_token_accuracy": 0.9422, "total_steps": 100}');
INSERT INTO events VALUES(98,'ftevent-wghpN47j8x3U6ibdR7GB8bnt','ftjob-thqZrK3vN0d3JHo67VnhQn37',96,1750000315,'info','Checkpoint created at step 90 with Snapshot ID: ft:gpt-4o-mini-2024-07-18:personal::2WbXBPhM:ckpt-step-90','message','{}');
INSERT INTO events VALUES(99,'ftevent-OWk059s3v8zaoiOwKh9LDmmC','ftjob-thqZrK3vN0d3JHo67VnhQn37',97,1750000318,'info','Step 91/100: training loss=0.12','metrics','{"step": 91, "train_loss": 0.12294, "train_mean_token_accuracy": 0.95473, "total_steps": 100}');
INSERT INTO events VALUES(100,'ftevent-yEsF04YxWlTfWzy8BZsrfMhK','ftjob-thqZrK3vN0d3JHo67VnhQn37',98,1750000321,'info','Step 92/100: training loss=0.11','metrics','{"step": 92, "train_loss": 0.11458, "train_mean_token_accuracy": 0.93946, "total_steps": 100}');
INSERT INTO events VALUES(101,'ftevent-aZcmW2d4iFjjd2qEFrCmbxAV','ftjob-thqZrK3vN0d3JHo67VnhQn37',99,1750000324,'info','Step 93/100: training loss=0.12','metrics','{"step": 93, "train_loss": 0.11751, "train_mean_token_accuracy": 0.93136, "total_steps": 100}');
INSERT INTO events VALUES(102,'ftevent-KNQlsASfDhzcfR016ld1iBCW','ftjob-thqZrK3vN0d3JHo67VnhQn37',100,1750000327,'info','Step 94/100: training loss=0.10','metrics','{"step": 94, "train_loss": 0.09898, "train_mean_token_accuracy": 0.9278, "total_steps": 100}');
INSERT INTO events VALUES(103,'ftevent-XingTjlfecmsKe04q78ZEbRL','ftjob-thqZrK3vN0d3JHo67VnhQn37',101,1750000330,'info','Step 95/100: training loss=0.11','metrics','{"step": 95, "train_loss": 0.11015, "train_mean_token_accuracy": 0.94746, "total_steps": 100}');
INSERT INTO events VALUES(104,'ftevent-aMtAKl5mkpfr0kVeVfw2rVT8','ftjob-thqZrK3vN0d3JHo67VnhQn37',102,1750000333,'info','Step 96/100: training loss=0.11','metrics','{"step": 96, "train_loss": 0.10827, "train_mean_token_accuracy": 0.94337, "total_steps": 100}');
INSERT INTO events VALUES(105,'ftevent-45oSTnZtsrQY7IIKdOyUZlWS','ftjob-thqZrK3vN0d3JHo67VnhQn37',103,1750000336,'info','Step 97/100: training loss=0.10','metrics','{"step": 97, "train_loss": 0.10313, "train_mean_token_accuracy": 0.93344, "total_steps": 100}');
INSERT INTO events VALUES(106,'ftevent-zTLUSN533FqcYHe2AaZ7cGj4','ftjob-thqZrK3vN0d3JHo67VnhQn37',104,1750000339,'info','Step 98/100: training loss=0.11','metrics','{"step": 98, "train_loss": 0.10713, "train_mean_token_accuracy": 0.93755, "total_steps": 100}');
INSERT INTO events VALUES(107,'ftevent-gYpTdoLShLQZYH8oi6Dl8KqM','ftjob-thqZrK3vN0d3JHo67VnhQn37',105,1750000342,'info','Step 99/100: training loss=0.11','metrics','{"step": 99, "train_loss": 0.11299, "train_mean_token_accuracy": 0.92044, "total_steps": 100}');
INSERT INTO events VALUES(108,'ftevent-7oX0q6o06DfKSevKnfHjEIfZ','ftjob-thqZrK3vN0d3JHo67VnhQn37',106,1750000345,'info','Step 100/100: training loss=0.10','metrics','{"step": 100, "train_loss": 0.10256, "train_mean_token_accuracy": 0.94925, "total_steps": 100}');
INSERT INTO events VALUES(109,'ftevent-pGWsbZskRB8RYXkz1XpIfOgF','ftjob-thqZrK3vN0d3JHo67VnhQn37',107,1750000360,'info','New fine-tuned model created: ft:gpt-4o-mini-2024-07-18:personal::wIgYNbu8','message','{}');
INSERT INTO events VALUES(110,'ftevent-sA6EjNNKiMT09t8j5s9wmVJF','ftjob-thqZrK3vN0d3JHo67VnhQn37',108,1750000360,'info','The job has successfully completed','message','{}');
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
INSERT INTO checkpoints VALUES(1,'ftckpt_OV9pTyJulpS7rhMNJQBo1ltz','ftjob-thqZrK3vN0d3JHo67VnhQn37',1750000285,80,'{"step": 80, "train_loss": 0.14006, "train_mean_token_accuracy": 0.93857}','ft:gpt-4o-mini-2024-07-18:personal::lknIDL3F:ckpt-step-80');
INSERT INTO checkpoints VALUES(2,'ftckpt_SLFO7ryhQ1lTF2Q1FpWJCTu7','ftjob-thqZrK3vN0d3JHo67VnhQn37',1750000315,90,'{"step": 90, "train_loss": 0.13227, "train_mean_token_accuracy": 0.9422}','ft:gpt-4o-mini-2024-07-18:personal::2WbXBPhM:ckpt-step-90');
INSERT INTO checkpoints VALUES(3,'ftckpt_HUXg7K1PcBTn5KfeEme1YCWM','ftjob-thqZrK3vN0d3JHo67VnhQn37',1750000345,100,'{"step": 100, "train_loss": 0.10256, "train_mean_token_accuracy": 0.94925}','ft:gpt-4o-mini-2024-07-18:personal::wIgYNbu8');
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
INSERT INTO models VALUES(1,'ft:gpt-4o-mini-2024-07-18:personal::wIgYNbu8','org-xRxZ8vP1a640DUS0tx7V4RjG/proj_ekvPMHOdRchBSoCXMo2yNG38',1750000360,'org-xRxZ8vP1a640DUS0tx7V4RjG','gpt-4o-mini-2024-07-18','ftjob-thqZrK3vN0d3JHo67VnhQn37','fine_tuned',NULL,'files/ftdata-ftjob-thqZrK3vN0d3JHo67VnhQn37',0);
INSERT INTO models VALUES(2,'ft:gpt-4o-mini-2024-07-18:personal::lknIDL3F:ckpt-step-80','org-xRxZ8vP1a640DUS0tx7V4RjG/proj_ekvPMHOdRchBSoCXMo2yNG38',1750000285,'org-xRxZ8vP1a640DUS0tx7V4RjG','gpt-4o-mini-2024-07-18','ftjob-thqZrK3vN0d3JHo67VnhQn37','checkpoint',80,'files/ftdata-ftjob-thqZrK3vN0d3JHo67VnhQn37',0);
INSERT INTO models VALUES(3,'ft:gpt-4o-mini-2024-07-18:personal::2WbXBPhM:ckpt-step-90','org-xRxZ8vP1a640DUS0tx7V4RjG/proj_ekvPMHOdRchBSoCXMo2yNG38',1750000315,'org-xRxZ8vP1a640DUS0tx7V4RjG','gpt-4o-mini-2024-07-18','ftjob-thqZrK3vN0d3JHo67VnhQn37','checkpoint',90,'files/ftdata-ftjob-thqZrK3vN0d3JHo67VnhQn37',0);
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
CREATE TABLE batches (
	seq INTEGER NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	tenant VARCHAR(128) NOT NULL, 
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
	version INTEGER NOT NULL, 
	stage_started FLOAT NOT NULL, 
	lines_done INTEGER NOT NULL, 
	input_offset INTEGER NOT NULL, 
	out_path VARCHAR, 
	err_path VARCHAR, 
	PRIMARY KEY (seq)
);
CREATE INDEX ix_files_tenant ON files (tenant);
CREATE UNIQUE INDEX ix_files_id ON files (id);
CREATE INDEX ix_files_deleted ON files (deleted);
CREATE INDEX ix_uploads_tenant ON uploads (tenant);
CREATE UNIQUE INDEX ix_uploads_id ON uploads (id);
CREATE UNIQUE INDEX ix_upload_parts_id ON upload_parts (id);
CREATE INDEX ix_upload_parts_upload_id ON upload_parts (upload_id);
CREATE INDEX ix_jobs_status ON jobs (status);
CREATE INDEX ix_jobs_tenant ON jobs (tenant);
CREATE UNIQUE INDEX ix_jobs_id ON jobs (id);
CREATE INDEX ix_events_job_id ON events (job_id);
CREATE UNIQUE INDEX ix_events_id ON events (id);
CREATE UNIQUE INDEX ix_checkpoints_id ON checkpoints (id);
CREATE INDEX ix_checkpoints_job_id ON checkpoints (job_id);
CREATE UNIQUE INDEX ix_models_id ON models (id);
CREATE INDEX ix_models_deleted ON models (deleted);
CREATE INDEX ix_models_tenant ON models (tenant);
CREATE INDEX ix_fixtures_tenant ON fixtures (tenant);
CREATE UNIQUE INDEX ix_responses_id ON responses (id);
CREATE INDEX ix_responses_tenant ON responses (tenant);
CREATE INDEX ix_responses_deleted ON responses (deleted);
CREATE INDEX ix_batches_status ON batches (status);
CREATE INDEX ix_batches_tenant ON batches (tenant);
CREATE UNIQUE INDEX ix_batches_id ON batches (id);
COMMIT;
