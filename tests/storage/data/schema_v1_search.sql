-- A schema-version-1 nasbook store (nasbook before schema 2), dumped with sqlite3 iterdump():
-- Search(NasBenchGraph('proteins'), strategy='evolution', budget=6, seed=3, name='old-run') run by
-- the schema-1 code, then trial 1 given a NaN metric and an infinite curve value, and trial 5 set
-- back to RUNNING (killed mid-trial), as schema-1 files may hold.
BEGIN TRANSACTION;
CREATE TABLE nasbook_meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "nasbook_meta" VALUES('magic','nasbook');
INSERT INTO "nasbook_meta" VALUES('schema_version','1');
INSERT INTO "nasbook_meta" VALUES('created_by','0.1.0');
CREATE TABLE nasbook_searches (
	id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	created_at FLOAT NOT NULL, 
	nasbook_version VARCHAR(32) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	config TEXT NOT NULL, 
	elapsed_s FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "nasbook_searches" VALUES(1,'old-run',1.79594868428242540364e+09,'0.1.0','done','{"name":"old-run","space":{"class":"GraphSpace","params":{"ops":["gcn","sage","arma","fc","skip"]}},"space_id":"graph-069c2190","task":{"class":"NasBenchGraph","params":{"dataset":"proteins"},"metric":"val_roc_auc","mode":"max"},"strategy":{"class":"RegularizedEvolution","alias":"evolution","params":{"population_size":30,"sample_size":10,"seed":null,"allow_duplicates":false}},"budget":{"trials":6},"seed":3,"executor":"LocalExecutor()","metric":"val_roc_auc","mode":"max","nasbook_version":"0.1.0"}',6.82763315999977749015e-01);
CREATE TABLE nasbook_trials (
	id INTEGER NOT NULL, 
	search_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	arch_id VARCHAR(64) NOT NULL, 
	arch TEXT NOT NULL, 
	value FLOAT, 
	metrics TEXT NOT NULL, 
	attrs TEXT NOT NULL, 
	epochs INTEGER, 
	n_told_before INTEGER NOT NULL, 
	tell_seq INTEGER, 
	started_at FLOAT, 
	finished_at FLOAT, 
	reason TEXT, 
	curves TEXT NOT NULL, 
	parent INTEGER, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_trial_number UNIQUE (search_id, number), 
	FOREIGN KEY(search_id) REFERENCES nasbook_searches (id)
);
INSERT INTO "nasbook_trials" VALUES(1,1,0,'complete','78488','{"link":[0,1,2,2],"ops":["skip","sage","skip","skip"]}',8.21333333333333359682e-01,'{}','{"test_roc_auc":0.7495762271917193,"latency_ms":88.46410115559895,"params_m":0.295792}',NULL,0,0,1.79594868493730711934e+09,1795948684.99319,NULL,'{}',NULL);
INSERT INTO "nasbook_trials" VALUES(2,1,1,'complete','17445','{"link":[0,0,0,1],"ops":["fc","sage","sage","arma"]}',8.19666666666666543505e-01,'{"loss":NaN}','{"test_roc_auc":0.7724334433278885,"latency_ms":347.0457394917806,"params_m":0.755312}',NULL,1,1,1.79594868499375891687e+09,1.79594868499377799029e+09,NULL,'{"val":[0.5,Infinity]}',NULL);
INSERT INTO "nasbook_trials" VALUES(3,1,2,'complete','25715','{"link":[0,0,1,1],"ops":["arma","fc","gcn","arma"]}',8.3233333333333325843e-01,'{}','{"test_roc_auc":0.7727957061849405,"latency_ms":394.12720998128253,"params_m":0.755312}',NULL,2,2,1.79594868499394464496e+09,1.79594868499395656589e+09,NULL,'{}',NULL);
INSERT INTO "nasbook_trials" VALUES(4,1,3,'complete','31714','{"link":[0,0,1,2],"ops":["gcn","fc","gcn","sage"]}',0.818,'{}','{"test_roc_auc":0.7742576394949555,"latency_ms":344.9161847432454,"params_m":0.493168}',NULL,3,3,1.79594868499410653108e+09,1.79594868499411726e+09,NULL,'{}',NULL);
INSERT INTO "nasbook_trials" VALUES(5,1,4,'complete','25745','{"link":[0,0,1,1],"ops":["arma","fc","sage","arma"]}',8.35666666666666557716e-01,'{}','{"test_roc_auc":0.7683884272131571,"latency_ms":384.9492867787679,"params_m":0.8208480000000001}',NULL,4,4,1.79594868499423694608e+09,1.79594868499424600597e+09,NULL,'{}',NULL);
INSERT INTO "nasbook_trials" VALUES(6,1,5,'running','78148','{"link":[0,1,2,2],"ops":["skip","gcn","sage","skip"]}',NULL,'{}','{"test_roc_auc":0.7560635385717714,"latency_ms":215.0124708811442,"params_m":0.36158399999999996}',NULL,5,NULL,1.79594868499865221978e+09,1.79594868499867510794e+09,NULL,'{}',NULL);
COMMIT;
