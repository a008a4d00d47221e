-- A schema-version-2 nasbook store (nasbook before schema 3), dumped with sqlite3 iterdump():
-- Search(NasBenchGraph('proteins'), strategy='evolution', budget=4, seed=5, name='v2-run') and
-- Search(NasBenchGraph('cora'), strategy='random', budget=3, seed=1, name='v2-cora') run by the schema-2 code.
BEGIN TRANSACTION;
CREATE TABLE nasbook_leases (
	search_id INTEGER NOT NULL, 
	owner VARCHAR(64) NOT NULL, 
	hostname VARCHAR(255) NOT NULL, 
	pid INTEGER NOT NULL, 
	acquired_at FLOAT NOT NULL, 
	heartbeat_at FLOAT NOT NULL, 
	PRIMARY KEY (search_id), 
	FOREIGN KEY(search_id) REFERENCES nasbook_searches (id)
);
CREATE TABLE nasbook_meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "nasbook_meta" VALUES('magic','nasbook');
INSERT INTO "nasbook_meta" VALUES('schema_version','2');
INSERT INTO "nasbook_meta" VALUES('created_by','0.1.0');
CREATE TABLE nasbook_searches (
	id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	created_at FLOAT NOT NULL, 
	nasbook_version VARCHAR(32) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	config JSON NOT NULL, 
	elapsed_s FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "nasbook_searches" VALUES(1,'v2-run',1.79596762120714569096e+09,'0.1.0','done','{"name":"v2-run","space":{"class":"GraphSpace","params":{"ops":["gcn","sage","arma","fc","skip"]}},"space_id":"graph-069c2190","task":{"class":"NasBenchGraph","params":{"dataset":"proteins"},"metric":"val_roc_auc","mode":"max"},"strategy":{"class":"RegularizedEvolution","alias":"evolution","params":{"population_size":30,"sample_size":10,"seed":null,"allow_duplicates":false}},"budget":{"trials":4},"seed":5,"executor":"LocalExecutor()","metric":"val_roc_auc","mode":"max","nasbook_version":"0.1.0"}',1.33025480001379037275e-01);
INSERT INTO "nasbook_searches" VALUES(2,'v2-cora',1.79596762135831427577e+09,'0.1.0','done','{"name":"v2-cora","space":{"class":"GraphSpace","params":{"ops":["gat","gcn","gin","cheb","sage","arma","graph","fc","skip"]}},"space_id":"graph-70c5b6f2","task":{"class":"NasBenchGraph","params":{"dataset":"cora"},"metric":"val_accuracy","mode":"max"},"strategy":{"class":"RandomSearch","alias":"random","params":{"seed":null,"allow_duplicates":false}},"budget":{"trials":3},"seed":1,"executor":"LocalExecutor()","metric":"val_accuracy","mode":"max","nasbook_version":"0.1.0"}',1.03668298299817251972e+00);
CREATE TABLE nasbook_trials (
	id INTEGER NOT NULL, 
	search_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	arch_id VARCHAR(64) NOT NULL, 
	arch JSON NOT NULL, 
	value FLOAT, 
	metrics JSON NOT NULL, 
	attrs JSON NOT NULL, 
	epochs INTEGER, 
	n_told_before INTEGER NOT NULL, 
	tell_seq INTEGER, 
	started_at FLOAT, 
	finished_at FLOAT, 
	reason TEXT, 
	curves JSON NOT NULL, 
	parent INTEGER, 
	lineage JSON DEFAULT '[]' NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_trial_number UNIQUE (search_id, number), 
	FOREIGN KEY(search_id) REFERENCES nasbook_searches (id)
);
INSERT INTO "nasbook_trials" VALUES(1,1,0,'complete','68711','{"link":[0,1,1,2],"ops":["skip","fc","gcn","gcn"]}',8.12666666666666537288e-01,'{}','{"test_roc_auc":0.7619064006118812,"latency_ms":1.634359359741211,"params_m":0.36184}',NULL,0,0,1.79596762132132840156e+09,1.79596762134155821799e+09,NULL,'{}',NULL,'[]');
INSERT INTO "nasbook_trials" VALUES(2,1,1,'complete','78411','{"link":[0,1,2,2],"ops":["skip","sage","gcn","gcn"]}',8.15999999999999836575e-01,'{}','{"test_roc_auc":0.760499888282856,"latency_ms":234.8637580871582,"params_m":0.427376}',NULL,1,1,1.795967621342237711e+09,1.79596762134227704997e+09,NULL,'{}',NULL,'[]');
INSERT INTO "nasbook_trials" VALUES(3,1,2,'complete','11155','{"link":[0,0,0,1],"ops":["gcn","gcn","arma","arma"]}',8.24333333333333251324e-01,'{}','{"test_roc_auc":0.7678085706934876,"latency_ms":514.7440433502197,"params_m":0.755312}',NULL,2,2,1.79596762134245419503e+09,1.79596762134246683119e+09,NULL,'{}',NULL,'[]');
INSERT INTO "nasbook_trials" VALUES(4,1,3,'complete','78445','{"link":[0,1,2,2],"ops":["skip","sage","sage","arma"]}',8.31999999999999850786e-01,'{}','{"test_roc_auc":0.7757702464844204,"latency_ms":338.8678232828776,"params_m":0.623984}',NULL,3,3,1.79596762134260201455e+09,1.79596762134261202811e+09,NULL,'{}',NULL,'[]');
INSERT INTO "nasbook_trials" VALUES(5,2,0,'complete','54116','{"link":[0,1,1,1],"ops":["sage","gcn","gcn","graph"]}',7.92666666666666741569e-01,'{}','{"test_accuracy":0.801,"latency_ms":3.6754608154296875,"params_m":1.197575}',NULL,0,0,1.79596762223847246169e+09,1.79596762239694380755e+09,NULL,'{}',NULL,'[]');
INSERT INTO "nasbook_trials" VALUES(6,2,1,'complete','60382','{"link":[0,1,1,2],"ops":["gat","cheb","skip","gin"]}',7.85333333333333327708e-01,'{}','{"test_accuracy":0.7833333333333333,"latency_ms":3.515323003133138,"params_m":0.6999109999999998}',NULL,1,1,1.79596762239763021464e+09,1.79596762239765477182e+09,NULL,'{}',NULL,'[]');
INSERT INTO "nasbook_trials" VALUES(7,2,2,'complete','74211','{"link":[0,1,2,2],"ops":["sage","gin","gcn","gcn"]}',7.91333333333333333037e-01,'{}','{"test_accuracy":0.789,"latency_ms":3.753662109375,"params_m":1.066503}',NULL,2,2,1.79596762239782977103e+09,1.79596762239786076546e+09,NULL,'{}',NULL,'[]');
COMMIT;
